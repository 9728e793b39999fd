// Directory listings (options.listing): an HTML index for a directory URL with a slash and no
// index file. Names are HTML-escaped in text and percent-encoded in hrefs (so "a:b" or
// "<x>" can neither inject markup nor turn into a scheme); dotfiles are hidden unless
// dotfiles is 'allow'; symlinks are shown only with followSymlinks (otherwise they answer 403
// anyway); only regular files and directories appear. At most kMaxEntries are listed. All
// of it runs on an Offload worker (ListingJob): the directory's blocks may not be cached.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>

#include "response.h"
#include "rules.h"
#include "static_files.h"

namespace kserver {
using kevent::UniqueFd;

namespace {

// Bounds the work and the page: past it, readdir's first entries are listed, sorted, and the
// page says it is cut.
constexpr size_t kMaxEntries = 10000;

struct Entry {
  std::string name;
  bool dir;
  uint64_t size;
  time_t mtime;
};

void AppendHtml(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '&': *out += "&amp;"; break;
      case '<': *out += "&lt;"; break;
      case '>': *out += "&gt;"; break;
      case '"': *out += "&quot;"; break;
      case '\'': *out += "&#39;"; break;
      default: *out += c;
    }
  }
}

// Every byte but RFC 3986 unreserved characters is encoded.
void AppendHref(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
      *out += static_cast<char>(c);
    } else {
      *out += '%';
      *out += kHex[c >> 4];
      *out += kHex[c & 15];
    }
  }
}

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

// 0 or errno; `truncated` when the directory holds more than kMaxEntries listable entries.
int ReadEntries(int dir_fd, const Options& options, const std::atomic<bool>& cancelled, std::vector<Entry>* entries,
                bool* truncated) {
  const int fd = dup(dir_fd);  // fdopendir takes the descriptor; the caller keeps its own
  if (fd < 0) return errno;
  std::unique_ptr<DIR, DirCloser> dir(fdopendir(fd));
  if (!dir) {
    const int err = errno;
    close(fd);
    return err;
  }
  for (;;) {
    if (cancelled.load(std::memory_order_relaxed)) return ECANCELED;  // nobody waits for the page
    errno = 0;
    const dirent* d = readdir(dir.get());
    if (!d) return errno;
    const std::string_view name = d->d_name;
    if (name == "." || name == "..") continue;
    if (name[0] == '.' && options.dotfiles != Dotfiles::kAllow) continue;
    struct stat st {};
    if (fstatat(dirfd(dir.get()), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    if (S_ISLNK(st.st_mode) && (!options.follow_symlinks || fstatat(dirfd(dir.get()), d->d_name, &st, 0) != 0)) continue;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) continue;
    if (entries->size() == kMaxEntries) {
      *truncated = true;
      return 0;
    }
    entries->push_back({std::string(name), S_ISDIR(st.st_mode), static_cast<uint64_t>(st.st_size), st.st_mtim.tv_sec});
  }
}

std::string Render(std::string_view path, std::vector<Entry>& entries, bool truncated) {
  // Directories first, then files, each in byte order of their names.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.dir != b.dir ? a.dir : a.name < b.name;
  });
  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ";
  AppendHtml(path, &html);
  html += "</title></head>\n<body>\n<h1>Index of ";
  AppendHtml(path, &html);
  html += "</h1>\n<table>\n<tr><th>Name</th><th>Last modified (UTC)</th><th>Size</th></tr>\n";
  if (path != "/") html += "<tr><td><a href=\"../\">../</a></td><td></td><td>-</td></tr>\n";
  for (const Entry& e : entries) {
    html += "<tr><td><a href=\"./";
    AppendHref(e.name, &html);
    if (e.dir) html += '/';
    html += "\">";
    AppendHtml(e.name, &html);
    if (e.dir) html += '/';
    char when[32] = "";
    struct tm tm {};
    if (gmtime_r(&e.mtime, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    html += "</a></td><td>";
    html += when;
    html += "</td><td>";
    html += e.dir ? "-" : std::to_string(e.size);
    html += "</td></tr>\n";
  }
  html += "</table>\n";
  if (truncated) html += "<p>Only the first " + std::to_string(kMaxEntries) + " entries are listed.</p>\n";
  html += "</body></html>\n";
  return html;
}

}  // namespace

void StaticFiles::ServeListing(const Request& req, const ReplyContext& ctx, const std::string& relative,
                               const std::atomic<bool>& cancelled, Reply* out) const {
  UniqueFd dir;  // the cache keeps no directory fds; listings are the rare case
  std::vector<Entry> entries;
  bool truncated = false;
  int err = OpenBeneath(relative, &dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (!err) err = ReadEntries(dir.get(), options_, cancelled, &entries, &truncated);
  if (err) return Answer(StatusForErrno(err), req, ctx, out);
  const std::string path = relative.empty() ? "/" : "/" + relative + "/";
  const std::string body = Render(path, entries, truncated);
  ResponseHead head(200, ctx.date);
  head.Add("Content-Type", "text/html; charset=utf-8");
  head.AddLength(body.size());
  AddRuleHeaders(options_, path, false, &head);
  out->memory = head.Finish(ctx.keep_alive, req.http_minor == 0);
  if (!req.head_only()) out->memory += body;
}

}  // namespace kserver
