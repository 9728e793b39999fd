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

const char* StaticFiles::PickEncoded(const Request& req, std::string_view name, UniqueFd* file, struct stat* st) const {
  const std::string* accept = req.Header("accept-encoding");
  if (!accept || EndsWith(name, ".gz") || EndsWith(name, ".br")) return nullptr;  // x.gz itself goes as-is
  Coding codings[2];
  const int n = AcceptableCodings(*accept, codings);
  for (int i = 0; i < n; ++i) {
    UniqueFd sibling;
    struct stat sst {};
    if (OpenFile(std::string(name) + codings[i].suffix, &sibling, &sst) != 0 || !S_ISREG(sst.st_mode)) continue;
    *file = std::move(sibling);
    *st = sst;
    return codings[i].name;
  }
  return nullptr;
}

}  // namespace kserver
