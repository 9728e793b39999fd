// The static file policy (lighttpd's mod_staticfile in one place): which file a request
// names, whether it may be served, validators, conditional requests and ranges.
#pragma once
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "http_parser.h"
#include "options.h"
#include "status.h"
#include "unique_fd.h"
#include "url_path.h"

namespace kserver {

// What a handler answers: bytes from memory (the head, and a small body), then optionally
// `length` bytes of `file` from `offset`, which the connection sends with sendfile.
struct Reply {
  std::string memory;
  kevent::UniqueFd file;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct ReplyContext {
  std::string_view date;
  bool keep_alive;
};

class StaticFiles {
 public:
  explicit StaticFiles(const Options& options) : options_(options) {}
  kevent::Status Open();
  // False, leaving `out` alone, when the request is for the JS handler: with a handler, a
  // path naming no file (or no root at all).
  bool Handle(const Request& req, const ReplyContext& ctx, Reply* out) const;

 private:
  // 0 or errno. Never resolves outside the root; with follow_symlinks off, no symlink at all.
  int OpenBeneath(const std::string& relative, kevent::UniqueFd* out) const;
  void ServeOpened(const Request& req, const ReplyContext& ctx, const UrlPath& url, kevent::UniqueFd file,
                   Reply* out) const;
  void Serve(const Request& req, const ReplyContext& ctx, kevent::UniqueFd file, const struct stat& st,
             std::string_view name, Reply* out) const;

  const Options& options_;
  kevent::UniqueFd root_;
};

}  // namespace kserver
