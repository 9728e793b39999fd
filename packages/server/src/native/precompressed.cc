// Precompressed siblings: `name.br` / `name.gz` next to `name`, chosen by Accept-Encoding
// and looked up like any file (beneath the root, no symlinks unless followSymlinks), so a
// sibling that is a symlink or not a regular file is never served.
#include <sys/stat.h>

#include "encoding.h"
#include "static_files.h"

namespace kserver {
using kevent::UniqueFd;

namespace {
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

const char* StaticFiles::PickEncoded(const Request& req, std::string_view name, const ReplyContext& ctx,
                                     FileRef* file) const {
  const std::string* accept = req.Header("accept-encoding");
  if (!accept || EndsWith(name, ".gz") || EndsWith(name, ".br")) return nullptr;  // x.gz itself goes as-is
  Coding codings[2];
  const int n = AcceptableCodings(*accept, codings);
  for (int i = 0; i < n; ++i) {
    // Through the cache: a sibling that is not there is remembered too, while its directory is watched.
    FileRef sibling;
    if (Lookup(std::string(name) + codings[i].suffix, ctx.cache, &sibling) != 0 || !S_ISREG(sibling->st.st_mode)) continue;
    *file = std::move(sibling);
    return codings[i].name;
  }
  return nullptr;
}

}  // namespace kserver
