// One file as a lookup found it: its stat, and what every response for it derives from the
// stat (validators, Content-Type, the header lines of a whole-file 200), computed once. Small
// files carry their bytes. Shared: a response in flight keeps its FileInfo, and with it the
// fd and the bytes, alive after the cache has dropped it.
#pragma once
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "unique_fd.h"

namespace kserver {

class StaticFiles;

// Why a small regular file's bytes are not held (its fd is, and the aio pool sends it).
enum class Unheld : uint8_t {
  kNo,          // held, or large, or not a regular file: nothing to load
  kCold,        // some pages were not in the page cache (RWF_NOWAIT: EAGAIN or a short read)
  kCannotTell,  // no RWF_NOWAIT for this file (EOPNOTSUPP, EINVAL: tmpfs, procfs...): only a
                // read that may wait can load it, so a worker does (file_cache.cc)
  kFailed,      // it shrank, or the read failed: the pool's sendfile will meet the same
};

struct FileInfo {
  int err = 0;  // the lookup failed (ENOENT...): nothing else is set
  struct stat st {};
  // A regular file whose bytes are not held below (large, not in the page cache, or could
  // not be read whole). Its body goes to the aio pool: an I/O thread never reads it.
  kevent::UniqueFd fd;
  // Small enough to hold, yet not held: why. The cache loads the bytes later (a later
  // lookup's LoadCachedBytes once the pool's sendfile has read the pages in, or a worker).
  Unheld unheld = Unheld::kNo;
  // The whole file, when it is at most small_file_max bytes: sent without a copy.
  std::shared_ptr<const std::string> bytes;
  std::string etag;           // strong: inode, size, mtime in ns
  std::string last_modified;  // IMF-fixdate of mtime
  std::string content_type;
  // "Content-Type ... Content-Length ... Last-Modified ... ETag ... Accept-Ranges" lines of a
  // whole-file 200, each ending in CRLF.
  std::string head;
};
using FileRef = std::shared_ptr<const FileInfo>;

// Opens `relative` under the root as the policy allows, stats it and, for a regular file,
// fills everything above; files up to `keep_bytes_max` are read whole and their fd closed,
// when their bytes are in the page cache (see LoadCachedBytes). Always sets `*out` (with
// `err` on failure); returns its `err`.
int LoadFile(const StaticFiles& files, const std::string& relative, size_t keep_bytes_max, FileRef* out);

int64_t Ns(const timespec& ts);
// Same inode, type, size, mtime and ctime: the bytes read match what `b` described.
bool SameFile(const struct stat& a, const struct stat& b);

// The whole of a small fd-based `file`, read only if every page is in the page cache
// (preadv2 RWF_NOWAIT): an I/O thread must never wait for the disk. A copy of `file` holding
// the bytes and no fd, or null with `*why` saying why not. Bytes read after the file changed
// (its fd's stat no longer matches `file.st`) are not returned: kFailed.
FileRef LoadCachedBytes(const FileInfo& file, Unheld* why);
// All of `file`'s bytes with plain reads, which may wait: for a worker thread only. Null if
// the read failed or the file changed since `file.st`.
std::shared_ptr<const std::string> ReadWhole(const FileInfo& file);
// A copy of `file` holding `bytes` and no fd.
FileRef WithBytes(const FileInfo& file, std::shared_ptr<const std::string> bytes);

}  // namespace kserver
