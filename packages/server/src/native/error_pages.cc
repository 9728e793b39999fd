// Error responses of static handling, with the page configured in options.errorPages as their
// body: the original status, the page's Content-Type, the headers the status needs (Allow,
// Content-Range) kept. A page that is missing, unreadable or not a regular file falls back to
// the built-in text body; a page is looked up once and never through Answer, so an error
// while serving one cannot recurse.
#include <sys/stat.h>

#include "mime.h"
#include "response.h"
#include "static_files.h"

namespace kserver {
using kevent::UniqueFd;

namespace {

// The page's path relative to the root; false for '..' or '.' segments, which would leave it
// (openat2 refuses them anyway, but follow_symlinks uses plain openat).
bool PagePath(const std::string& page, std::string* relative) {
  size_t start = page.find_first_not_of('/');
  if (start == std::string::npos) return false;
  *relative = page.substr(start);
  for (size_t pos = 0; pos <= relative->size();) {
    size_t slash = relative->find('/', pos);
    if (slash == std::string::npos) slash = relative->size();
    const std::string_view seg(relative->data() + pos, slash - pos);
    if (seg == "." || seg == ".." || seg.empty()) return false;
    pos = slash + 1;
  }
  return true;
}

}  // namespace

void StaticFiles::Answer(int status, const Request& req, const ReplyContext& ctx, Reply* out, std::string_view extra) const {
  *out = Reply();
  auto it = options_.error_pages.find(status);
  if (it != options_.error_pages.end() && ErrorPage(status, it->second, req, ctx, extra, out)) return;
  *out = Reply();
  out->memory = SimpleResponse(status, ctx.date, ctx.keep_alive, req.http_minor == 0, req.head_only(), extra);
}

bool StaticFiles::ErrorPage(int status, const std::string& page, const Request& req, const ReplyContext& ctx,
                            std::string_view extra, Reply* out) const {
  std::string relative;
  if (!PagePath(page, &relative)) return false;
  FileRef file;
  if (Lookup(relative, ctx.cache, &file) != 0 || !S_ISREG(file->st.st_mode)) return false;
  const uint64_t size = static_cast<uint64_t>(file->st.st_size);
  ResponseHead head(status, ctx.date);
  head.Add("Content-Type", ContentTypeFor(relative, options_.mime_types));
  head.AddLength(size);
  out->memory = head.Finish(ctx.keep_alive, req.http_minor == 0);
  if (!extra.empty()) out->memory.insert(out->memory.size() - 2, extra);  // before the blank line
  if (req.head_only() || size == 0) return true;
  return AttachBody(*file, 0, size, ctx, out);
}

}  // namespace kserver
