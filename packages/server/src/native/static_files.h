// The static file policy (lighttpd's mod_staticfile in one place): which file a request
// names, whether it may be served, validators, conditional requests and ranges.
#pragma once
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "file_info.h"
#include "http_parser.h"
#include "offload.h"
#include "options.h"
#include "response.h"
#include "status.h"
#include "unique_fd.h"
#include "url_path.h"

namespace kserver {

class FileCache;
struct ListingJob;

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
  // Sent after the file range, in order (a large multipart/byteranges body): each piece's
  // memory, then its own file range when it has a file.
  struct Piece {
    std::string memory;
    kevent::UniqueFd file;
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  std::vector<Piece> more;
  // Instead of all the above: a directory listing, which a worker builds (ListingJob).
  std::shared_ptr<ListingJob> listing;
};

struct ReplyContext {
  std::string_view date;
  bool keep_alive;
  FileCache* cache = nullptr;  // the I/O thread's; null when fileCacheEntries is 0
};

struct ByteRange;

// The HTTP status for a failed lookup's errno.
int StatusForErrno(int err);

class StaticFiles {
 public:
  explicit StaticFiles(const Options& options) : options_(options) {}
  kevent::Status Open();
  // False, leaving `out` alone, when the request is for the JS handler: with a handler, a
  // path naming no file (or no root at all).
  bool Handle(const Request& req, const ReplyContext& ctx, Reply* out) const;

  // Every lookup of a file or directory goes through here (the request's path, index files,
  // precompressed siblings, error pages): from the thread's cache when it holds a fresh
  // entry, else opened (OpenBeneath), stat'ed and, when small, read. 0 or errno (ENOENT,
  // ELOOP for a refused symlink, ...); `*out` is always set.
  int Lookup(const std::string& relative, FileCache* cache, FileRef* out) const;

  static constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;  // O_NONBLOCK: a FIFO must not hang us
  // 0 or errno. Never resolves outside the root; with follow_symlinks off, no symlink at all.
  int OpenBeneath(const std::string& relative, kevent::UniqueFd* out, int flags = kOpenFlags) const;
  int root_fd() const { return root_.get(); }
  const Options& options() const { return options_; }

  // listing.cc, on a worker (it may wait on the disk): the whole reply for the listing of
  // directory `relative`, error pages included. `ctx` has no cache: that is its I/O thread's.
  void ServeListing(const Request& req, const ReplyContext& ctx, const std::string& relative,
                    const std::atomic<bool>& cancelled, Reply* out) const;

 private:
  void ServeOpened(const Request& req, const ReplyContext& ctx, const UrlPath& url, FileRef file, Reply* out) const;
  void Serve(const Request& req, const ReplyContext& ctx, FileRef file, std::string_view name, Reply* out) const;
  // The body: the cached bytes without a copy, else a file range for the aio pool (large, or
  // not in the page cache). False if the fd could not be duplicated.
  bool AttachBody(const FileInfo& file, uint64_t offset, uint64_t length, const ReplyContext& ctx, Reply* out) const;

  // error_pages.cc: an error status, with the configured page as its body when there is one.
  void Answer(int status, const Request& req, const ReplyContext& ctx, Reply* out, std::string_view extra = {}) const;
  bool ErrorPage(int status, const std::string& page, const Request& req, const ReplyContext& ctx,
                 std::string_view extra, Reply* out) const;
  // precompressed.cc: swaps `file` for name.br or name.gz when the request accepts it;
  // returns the Content-Encoding, or nullptr for the file itself.
  const char* PickEncoded(const Request& req, std::string_view name, const ReplyContext& ctx, FileRef* file) const;
  // multipart.cc: 206 multipart/byteranges; `head` holds the status line and the headers
  // every part shares the description of.
  bool ServeMultipart(const Request& req, const FileInfo& file, const std::vector<ByteRange>& ranges, uint64_t size,
                      std::string_view content_type, ResponseHead head, const ReplyContext& ctx, Reply* out) const;

  const Options& options_;
  kevent::UniqueFd root_;
  std::string boundary_;  // multipart/byteranges, random per engine
};

// A listing request, handed to the engine's Offload workers; the I/O thread that submitted
// it takes `reply` once the completion arrives.
struct ListingJob : Offload::Job {
  ListingJob(const StaticFiles& files, const Request& req, std::string_view date, bool keep_alive, std::string relative)
      : files(files), req(req), date(date), keep_alive(keep_alive), relative(std::move(relative)) {}
  void Run() override { files.ServeListing(req, ReplyContext{date, keep_alive, nullptr}, relative, cancelled, &reply); }

  const StaticFiles& files;
  const Request req;  // a copy: the access log records it when the reply is queued
  const std::string date;
  const bool keep_alive;
  const std::string relative;
  Reply reply;
};

}  // namespace kserver
