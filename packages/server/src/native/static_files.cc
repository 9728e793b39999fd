#include "static_files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "file_cache.h"
#include "http_date.h"
#include "response.h"
#include "text.h"
#include "url_path.h"

namespace kserver {
using kevent::Status;
using kevent::UniqueFd;

namespace {

void Answer(int status, const Request& req, const ReplyContext& ctx, Reply* out, std::string_view extra = {}) {
  out->memory = SimpleResponse(status, ctx.date, ctx.keep_alive, req.http_minor == 0, req.head_only(), extra);
}

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

struct ByteRange {
  uint64_t first, last;
};
enum class RangeKind { kNone, kSingle, kUnsatisfiable };

// One range of "bytes=first-last", "bytes=first-" or "bytes=-suffix". Anything we do not
// serve as one range (bad syntax, other units, several ranges) is ignored: the whole file
// goes out with 200, which RFC 9110 14.2 allows.
RangeKind ParseRange(std::string_view v, uint64_t size, ByteRange* out) {
  v = TrimOws(v);
  if (v.size() < 6 || (v.substr(0, 6) != "bytes=" && v.substr(0, 6) != "Bytes=")) return RangeKind::kNone;
  v = TrimOws(v.substr(6));
  if (v.find(',') != std::string_view::npos) return RangeKind::kNone;
  const size_t dash = v.find('-');
  if (dash == std::string_view::npos) return RangeKind::kNone;
  const std::string_view a = v.substr(0, dash), b = v.substr(dash + 1);
  uint64_t first = 0, last = 0;
  if (a.empty()) {
    if (!ParseDecimal(b, &last)) return RangeKind::kNone;
    if (last == 0 || size == 0) return RangeKind::kUnsatisfiable;
    *out = {size - std::min(last, size), size - 1};
    return RangeKind::kSingle;
  }
  if (!ParseDecimal(a, &first)) return RangeKind::kNone;
  if (b.empty()) {
    last = UINT64_MAX;
  } else if (!ParseDecimal(b, &last) || last < first) {
    return RangeKind::kNone;
  }
  if (first >= size) return RangeKind::kUnsatisfiable;
  *out = {first, std::min(last, size - 1)};
  return RangeKind::kSingle;
}

}  // namespace

Status StaticFiles::Open() {
  if (options_.root.empty()) return Status::Ok();
  root_.reset(open(options_.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_.valid()) return Status::Errno(errno, "open", "the document root must be a readable directory");
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
      found = true;
      break;
    }
    if (!found) return Answer(403, req, ctx, out);  // no index, and listings are not built yet
  } else if (!S_ISREG(file->st.st_mode)) {
    return Answer(403, req, ctx, out);
  } else if (url.trailing_slash) {
    return Answer(404, req, ctx, out);  // "file.html/" names a directory that is not there
  }

  if (req.method != "GET" && req.method != "HEAD") return Answer(405, req, ctx, out, "Allow: GET, HEAD\r\n");
  Serve(req, ctx, *file, out);
}

void StaticFiles::Serve(const Request& req, const ReplyContext& ctx, const FileInfo& file, Reply* out) const {
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
    out->memory = head.Finish(ctx.keep_alive, http10);
    return;
  }

  ByteRange range{0, size ? size - 1 : 0};
  RangeKind kind = RangeKind::kNone;
  const std::string* range_header = req.method == "GET" ? req.Header("range") : nullptr;
  if (range_header) {
    bool honour = true;
    if (const std::string* v = req.Header("if-range")) {
      const std::string_view ir = TrimOws(*v);
      honour = ir.empty() ? false : ir[0] == '"' ? ir == etag : ParseHttpDate(ir) == mtime;
    }
    if (honour) kind = ParseRange(*range_header, size, &range);
  }
  if (kind == RangeKind::kUnsatisfiable) {
    const std::string extra = "Content-Range: bytes */" + std::to_string(size) + "\r\n";
    return Answer(416, req, ctx, out, extra);
  }

  const uint64_t length = size == 0 ? 0 : range.last - range.first + 1;
  if (kind == RangeKind::kSingle) {
    ResponseHead head(206, ctx.date);
    head.Add("Content-Type", file.content_type);
    head.AddLength(length);
    head.Add("Last-Modified", last_modified);
    head.Add("ETag", etag);
    head.Add("Accept-Ranges", "bytes");
    head.Add("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" + std::to_string(size));
    out->memory = head.Finish(ctx.keep_alive, http10);
  } else {
    ResponseHead head(200, ctx.date);
    head.AddLines(file.head);  // computed once per file
    out->memory = head.Finish(ctx.keep_alive, http10);
  }
  if (req.head_only() || length == 0) return;

  if (file.bytes) {
    out->body_owner = file.bytes;
    out->body = std::string_view(*file.bytes).substr(range.first, length);
    return;
  }
  if (length > options_.small_file_max) {
    // Its own fd: the cache may close the shared one while this response is still sending.
    out->file.reset(dup(file.fd.get()));
    if (!out->file.valid() && (errno == EMFILE || errno == ENFILE) && ctx.cache) {
      ctx.cache->ShedFds();
      out->file.reset(dup(file.fd.get()));
    }
    if (!out->file.valid()) return Answer(StatusForErrno(errno), req, ctx, out);  // errno of the dup
    out->offset = range.first;
    out->length = length;
    return;
  }
  // A small file the cache could not hold whole (it shrank while being read).
  const size_t head_size = out->memory.size();
  out->memory.resize(head_size + length);
  size_t done = 0;
  while (done < length) {
    const ssize_t n = pread(file.fd.get(), &out->memory[head_size + done], length - done, static_cast<off_t>(range.first + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Answer(500, req, ctx, out);  // shrank or failed under us
    done += static_cast<size_t>(n);
  }
}

}  // namespace kserver
