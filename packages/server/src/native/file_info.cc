#include "file_info.h"

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdio>

#include "http_date.h"
#include "mime.h"
#include "static_files.h"

namespace kserver {
using kevent::UniqueFd;

namespace {

std::string MakeEtag(const struct stat& st) {
  char buf[80];
  const uint64_t mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<uint64_t>(st.st_mtim.tv_nsec);
  snprintf(buf, sizeof buf, "\"%llx-%llx-%llx\"", static_cast<unsigned long long>(st.st_ino),
           static_cast<unsigned long long>(st.st_size), static_cast<unsigned long long>(mtime_ns));
  return buf;
}

enum class CachedRead { kDone, kCold, kFailed };

// All `size` bytes of `fd` from offset 0, without waiting for the disk: EAGAIN, or a short
// read of pages partly cached, means some are not in the page cache.
CachedRead ReadIfCached(int fd, size_t size, std::string* out) {
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    iovec iov{&(*out)[done], size - done};
    const ssize_t n = preadv2(fd, &iov, 1, static_cast<off_t>(done), RWF_NOWAIT);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return CachedRead::kCold;
    // 0: it shrank. EOPNOTSUPP / EINVAL: no RWF_NOWAIT here, and a plain read could wait.
    // Anything else (EIO...): the pool's sendfile meets it and ends the response.
    return CachedRead::kFailed;
  }
  return CachedRead::kDone;
}

}  // namespace

int LoadFile(const StaticFiles& files, const std::string& relative, size_t keep_bytes_max, FileRef* out) {
  auto info = std::make_shared<FileInfo>();
  UniqueFd fd;
  info->err = files.OpenBeneath(relative, &fd);
  if (!info->err && fstat(fd.get(), &info->st) != 0) info->err = errno;
  if (info->err || !S_ISREG(info->st.st_mode)) {
    *out = std::move(info);
    return (*out)->err;
  }
  const size_t size = static_cast<size_t>(info->st.st_size);
  info->etag = MakeEtag(info->st);
  info->last_modified = FormatHttpDate(info->st.st_mtim.tv_sec);
  info->content_type = ContentTypeFor(relative, files.options().mime_types);
  info->head.reserve(160);
  info->head.append("Content-Type: ").append(info->content_type);
  info->head.append("\r\nContent-Length: ").append(std::to_string(size));
  info->head.append("\r\nLast-Modified: ").append(info->last_modified);
  info->head.append("\r\nETag: ").append(info->etag);
  info->head.append("\r\nAccept-Ranges: bytes\r\n");
  info->fd = std::move(fd);
  if (size <= keep_bytes_max) {
    FileRef held = LoadCachedBytes(*info, &info->cold);
    if (held) {
      *out = std::move(held);
      return 0;
    }
  }
  *out = std::move(info);
  return 0;
}

FileRef LoadCachedBytes(const FileInfo& file, bool* cold) {
  auto bytes = std::make_shared<std::string>();
  const CachedRead r = ReadIfCached(file.fd.get(), static_cast<size_t>(file.st.st_size), bytes.get());
  *cold = r == CachedRead::kCold;
  if (r != CachedRead::kDone) return nullptr;
  auto held = std::make_shared<FileInfo>();
  held->st = file.st;
  held->bytes = std::move(bytes);
  held->etag = file.etag;
  held->last_modified = file.last_modified;
  held->content_type = file.content_type;
  held->head = file.head;
  return held;
}

}  // namespace kserver
