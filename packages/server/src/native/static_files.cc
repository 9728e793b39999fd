#include "static_files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "file_cache.h"
#include "http_date.h"
#include "mime.h"
#include "ranges.h"
#include "response.h"
#include "rules.h"
#include "text.h"
#include "url_path.h"

namespace kserver {
using kevent::Status;
using kevent::UniqueFd;

int StatusForErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG: return 404;
    case ELOOP:   // a symlink, refused
    case EXDEV:   // a path resolving outside the root
    case EACCES:
    case EPERM: return 403;
    case EMFILE:
    case ENFILE:
    case ENOMEM: return 503;
    default: return 500;
  }
}

namespace {

// RFC 9110 8.8.3.2: weak comparison ignores W/; strong needs both strong and equal.
bool EtagListMatches(std::string_view list, std::string_view etag, bool weak) {
  if (TrimOws(list) == "*") return true;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view tag = TrimOws(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const bool is_weak = tag.substr(0, 2) == "W/";
    if (is_weak) {
      if (!weak) continue;
      tag.remove_prefix(2);
    }
    if (tag == etag) return true;
  }
  return false;
}


}  // namespace

Status StaticFiles::Open() {
  if (options_.root.empty()) return Status::Ok();
  root_.reset(open(options_.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_.valid()) return Status::Errno(errno, "open", "the document root must be a readable directory");
  // A boundary a file's content cannot be made to contain by guessing.
  uint64_t random[2] = {};
  if (getrandom(random, sizeof random, GRND_NONBLOCK) != sizeof random) {
    random[0] = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(this)) ^ static_cast<uint64_t>(time(nullptr));
    random[1] = static_cast<uint64_t>(getpid());
  }
  char buf[48];
  snprintf(buf, sizeof buf, "kevent-%016llx%016llx", static_cast<unsigned long long>(random[0]),
           static_cast<unsigned long long>(random[1]));
  boundary_ = buf;
  return Status::Ok();
}

int StaticFiles::OpenBeneath(const std::string& relative, UniqueFd* out, int flags) const {
  const char* path = relative.empty() ? "." : relative.c_str();
  if (options_.follow_symlinks) {
    out->reset(openat(root_.get(), path, flags));
    return out->valid() ? 0 : errno;
  }
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const long fd = syscall(SYS_openat2, root_.get(), path, &how, sizeof how);
  if (fd >= 0) {
    out->reset(static_cast<int>(fd));
    return 0;
  }
  if (errno != ENOSYS) return errno;
  // Kernels before 5.6: walk the segments with O_NOFOLLOW (".." never reaches here).
  UniqueFd dir(dup(root_.get()));
  if (!dir.valid()) return errno;
  size_t start = 0;
  for (;;) {
    const size_t slash = relative.find('/', start);
    const std::string seg = relative.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    const bool last = slash == std::string::npos;
    UniqueFd next(openat(dir.get(), seg.empty() ? "." : seg.c_str(), (last ? flags : O_PATH | O_DIRECTORY | O_CLOEXEC) | O_NOFOLLOW));
    if (!next.valid()) return errno;
    dir = std::move(next);
    if (last) break;
    start = slash + 1;
  }
  *out = std::move(dir);
  return 0;
}

int StaticFiles::Lookup(const std::string& relative, FileCache* cache, FileRef* out) const {
  if (cache) return cache->Lookup(relative, out);
  return LoadFile(*this, relative, options_.small_file_max, out);
}

bool StaticFiles::AttachBody(const FileInfo& file, uint64_t offset, uint64_t length, const ReplyContext& ctx,
                             Reply* out) const {
  if (file.bytes) {
    out->body_owner = file.bytes;
    out->body = std::string_view(*file.bytes).substr(offset, length);
    return true;
  }
  // Large, or small with pages not in the page cache: the pool's sendfile reads it (with
  // readahead), never this thread. Its own fd: the cache may close the shared one while this
  // response is still sending.
  out->file.reset(dup(file.fd.get()));
  if (!out->file.valid() && (errno == EMFILE || errno == ENFILE) && ctx.cache) {
    ctx.cache->ShedFds();
    out->file.reset(dup(file.fd.get()));
  }
  out->offset = offset;
  out->length = length;
  return out->file.valid();
}

bool StaticFiles::Handle(const Request& req, const ReplyContext& ctx, Reply* out) const {
  if (!root_.valid()) return false;
  UrlPath url;
  FileRef file;
  if (int status = ResolveUrlPath(req.target, &url)) {
    Answer(status, req, ctx, out);
  } else if (url.has_dot_segment && options_.dotfiles != Dotfiles::kAllow) {
    Answer(options_.dotfiles == Dotfiles::kDeny ? 403 : 404, req, ctx, out);
  } else if (int err = Lookup(url.relative, ctx.cache, &file)) {
    if ((err == ENOENT || err == ENOTDIR) && options_.handler) return false;
    Answer(StatusForErrno(err), req, ctx, out);
  } else {
    ServeOpened(req, ctx, url, std::move(file), out);
  }
  return true;
}

void StaticFiles::ServeOpened(const Request& req, const ReplyContext& ctx, const UrlPath& url, FileRef file,
                              Reply* out) const {
  std::string name = url.relative;

  if (S_ISDIR(file->st.st_mode)) {
    if (!url.trailing_slash) {
      const std::string location = "Location: " + url.raw_path + "/" + url.raw_query + "\r\n";
      return Answer(301, req, ctx, out, location);
    }
    bool found = false;
    for (const std::string& index : options_.index) {
      const std::string candidate = url.relative.empty() ? index : url.relative + "/" + index;
      FileRef f;
      if (int err = Lookup(candidate, ctx.cache, &f)) {
        if (err == ENOENT) continue;
        return Answer(StatusForErrno(err), req, ctx, out);
      }
      if (!S_ISREG(f->st.st_mode)) continue;
      file = std::move(f);
      name = candidate;
      found = true;
      break;
    }
    if (!found) {
      if (!options_.listing) return Answer(403, req, ctx, out);
      if (req.method != "GET" && req.method != "HEAD") return Answer(405, req, ctx, out, "Allow: GET, HEAD\r\n");
      // Reading a directory may wait on the disk: a worker does it (ListingJob).
      out->listing = std::make_shared<ListingJob>(*this, req, ctx.date, ctx.keep_alive, url.relative);
      return;
    }
  } else if (!S_ISREG(file->st.st_mode)) {
    return Answer(403, req, ctx, out);
  } else if (url.trailing_slash) {
    return Answer(404, req, ctx, out);  // "file.html/" names a directory that is not there
  }

  if (req.method != "GET" && req.method != "HEAD") return Answer(405, req, ctx, out, "Allow: GET, HEAD\r\n");
  Serve(req, ctx, std::move(file), name, out);
}

void StaticFiles::Serve(const Request& req, const ReplyContext& ctx, FileRef ref, std::string_view name,
                        Reply* out) const {
  // What cache and header rules match: built per request only when there are rules.
  const bool has_rules = !options_.cache_rules.empty() || !options_.header_rules.empty();
  const std::string path = has_rules ? "/" + std::string(name) : std::string();
  const char* encoding = options_.precompressed ? PickEncoded(req, name, ctx, &ref) : nullptr;
  const FileInfo& file = *ref;
  const std::string& etag = file.etag;
  const time_t mtime = file.st.st_mtim.tv_sec;
  const std::string& last_modified = file.last_modified;
  const bool http10 = req.http_minor == 0;
  const uint64_t size = static_cast<uint64_t>(file.st.st_size);

  // RFC 9110 13.2.2: If-Match, else If-Unmodified-Since; then If-None-Match, else
  // If-Modified-Since; then Range with If-Range.
  if (const std::string* v = req.Header("if-match")) {
    if (!EtagListMatches(*v, etag, false)) return Answer(412, req, ctx, out);
  } else if (const std::string* v = req.Header("if-unmodified-since")) {
    const time_t t = ParseHttpDate(*v);
    if (t != -1 && mtime > t) return Answer(412, req, ctx, out);
  }
  bool not_modified = false;
  if (const std::string* v = req.Header("if-none-match")) {
    not_modified = EtagListMatches(*v, etag, true);
  } else if (const std::string* v = req.Header("if-modified-since")) {
    const time_t t = ParseHttpDate(*v);
    not_modified = t != -1 && mtime <= t;
  }
  if (not_modified) {
    ResponseHead head(304, ctx.date);
    head.Add("ETag", etag);
    head.Add("Last-Modified", last_modified);
    if (options_.precompressed) head.Add("Vary", "Accept-Encoding");
    AddRuleHeaders(options_, path, true, &head);
    out->memory = head.Finish(ctx.keep_alive, http10);
    return;
  }

  std::vector<ByteRange> ranges;
  RangeKind kind = RangeKind::kNone;
  const std::string* range_header = req.method == "GET" ? req.Header("range") : nullptr;
  if (range_header) {
    bool honour = true;
    if (const std::string* v = req.Header("if-range")) {
      const std::string_view ir = TrimOws(*v);
      honour = ir.empty() ? false : ir[0] == '"' ? ir == etag : ParseHttpDate(ir) == mtime;
    }
    // An encoded variant gets single ranges only: a multipart body under Content-Encoding
    // would read as an encoded multipart, so several ranges there get the whole variant.
    if (honour) kind = ParseRanges(*range_header, size, encoding ? 1 : options_.max_ranges, &ranges);
  }
  if (kind == RangeKind::kUnsatisfiable) {
    const std::string extra = "Content-Range: bytes */" + std::to_string(size) + "\r\n";
    return Answer(416, req, ctx, out, extra);
  }
  const bool partial = kind == RangeKind::kSatisfiable;
  // An encoded sibling is described as the file it encodes.
  std::string encoded_type;
  const std::string& content_type = encoding ? (encoded_type = ContentTypeFor(name, options_.mime_types)) : file.content_type;

  ResponseHead head(partial ? 206 : 200, ctx.date, std::move(out->memory));  // a spare buffer, if given
  if (partial && ranges.size() > 1) {
    head.Add("Last-Modified", last_modified);
    head.Add("ETag", etag);
    head.Add("Accept-Ranges", "bytes");
    if (options_.precompressed) head.Add("Vary", "Accept-Encoding");
    AddRuleHeaders(options_, path, false, &head);
    if (!ServeMultipart(req, file, ranges, size, content_type, std::move(head), ctx, out))
      return Answer(500, req, ctx, out);
    return;
  }
  const ByteRange range = partial ? ranges[0] : ByteRange{0, size ? size - 1 : 0};
  const uint64_t length = size == 0 ? 0 : range.length();
  if (!partial && !encoding) {
    head.AddLines(file.head);  // computed once per file
  } else {
    head.Add("Content-Type", content_type);
    if (encoding) head.Add("Content-Encoding", encoding);
    head.AddLength(length);
    head.Add("Last-Modified", last_modified);
    head.Add("ETag", etag);
    head.Add("Accept-Ranges", "bytes");
  }
  if (options_.precompressed) head.Add("Vary", "Accept-Encoding");
  if (partial)
    head.Add("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" + std::to_string(size));
  AddRuleHeaders(options_, path, false, &head);
  out->memory = head.Finish(ctx.keep_alive, http10);
  if (req.head_only() || length == 0) return;
  if (!AttachBody(file, range.first, length, ctx, out)) return Answer(StatusForErrno(errno), req, ctx, out);
}

}  // namespace kserver
