// One file as a lookup found it: its stat, and what every response for it derives from the
// stat (validators, Content-Type, the header lines of a whole-file 200), computed once. Small
// files carry their bytes. Shared: a response in flight keeps its FileInfo, and with it the
// fd and the bytes, alive after the cache has dropped it.
#pragma once
#include <sys/stat.h>

#include <cstddef>
#include <memory>
#include <string>

#include "unique_fd.h"

namespace kserver {

class StaticFiles;

struct FileInfo {
  int err = 0;  // the lookup failed (ENOENT...): nothing else is set
  struct stat st {};
  // A regular file whose bytes are not held below (large, not in the page cache, or could
  // not be read whole). Its body goes to the aio pool: an I/O thread never reads it.
  kevent::UniqueFd fd;
  // Small enough to hold, but its pages were not all in the page cache when it was looked
  // up: the bytes may be loaded by a later lookup (LoadCachedBytes) once the pool's sendfile
  // has read them in.
  bool cold = false;
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

// The whole of a small fd-based `file`, read only if every page is in the page cache
// (preadv2 RWF_NOWAIT): an I/O thread must never wait for the disk. A copy of `file` holding
// the bytes and no fd, or null when they are not all cached (then `*cold` is set), the
// kernel or file system cannot read without waiting (EOPNOTSUPP, EINVAL), or the read failed.
FileRef LoadCachedBytes(const FileInfo& file, bool* cold);

}  // namespace kserver
