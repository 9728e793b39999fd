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
  // A regular file whose bytes are not held below (large, or could not be read whole).
  kevent::UniqueFd fd;
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
// fills everything above; files up to `keep_bytes_max` are read whole and their fd closed.
// Always sets `*out` (with `err` on failure); returns its `err`.
int LoadFile(const StaticFiles& files, const std::string& relative, size_t keep_bytes_max, FileRef* out);

}  // namespace kserver
