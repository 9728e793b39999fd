// The static file policy (lighttpd's mod_staticfile in one place): which file a request
// names, whether it may be served, validators, conditional requests and ranges.
#pragma once
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "file_info.h"
#include "http_parser.h"
#include "options.h"
#include "status.h"
#include "unique_fd.h"
#include "url_path.h"

namespace kserver {

class FileCache;

// What a handler answers: bytes from memory (the head, and a small body), then `body` (bytes
// of a small file, kept alive by `body_owner` and sent without a copy), then optionally
// `length` bytes of `file` from `offset`, which the connection sends with sendfile.
struct Reply {
  std::string memory;
  std::shared_ptr<const std::string> body_owner;
  std::string_view body;
  kevent::UniqueFd file;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct ReplyContext {
  std::string_view date;
  bool keep_alive;
  FileCache* cache = nullptr;  // the I/O thread's; null when fileCacheEntries is 0
};

class StaticFiles {
 public:
  explicit StaticFiles(const Options& options) : options_(options) {}
  kevent::Status Open();
  // False, leaving `out` alone, when the request is for the JS handler: with a handler, a
  // path naming no file (or no root at all).
  bool Handle(const Request& req, const ReplyContext& ctx, Reply* out) const;

  // Every file the policy serves or tests for is found here: from the thread's cache when
  // it holds a fresh entry, else opened (OpenBeneath), stat'ed and, when small, read. 0 or
  // errno (ENOENT, ELOOP for a refused symlink, ...); `*out` is always set.
  int Lookup(const std::string& relative, FileCache* cache, FileRef* out) const;

  static constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;  // O_NONBLOCK: a FIFO must not hang us
  // 0 or errno. Never resolves outside the root; with follow_symlinks off, no symlink at all.
  int OpenBeneath(const std::string& relative, kevent::UniqueFd* out, int flags = kOpenFlags) const;
  int root_fd() const { return root_.get(); }

 private:
  void ServeOpened(const Request& req, const ReplyContext& ctx, const UrlPath& url, FileRef file, Reply* out) const;
  void Serve(const Request& req, const ReplyContext& ctx, const FileInfo& file, Reply* out) const;

  const Options& options_;
  kevent::UniqueFd root_;
};

}  // namespace kserver
