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

int64_t Ns(const timespec& ts) { return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec; }

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_mode == b.st_mode && a.st_size == b.st_size &&
         Ns(a.st_mtim) == Ns(b.st_mtim) && Ns(a.st_ctim) == Ns(b.st_ctim);
}

namespace {

std::string MakeEtag(const struct stat& st) {
  char buf[80];
  const uint64_t mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<uint64_t>(st.st_mtim.tv_nsec);
  snprintf(buf, sizeof buf, "\"%llx-%llx-%llx\"", static_cast<unsigned long long>(st.st_ino),
           static_cast<unsigned long long>(st.st_size), static_cast<unsigned long long>(mtime_ns));
  return buf;
}

// All `size` bytes of `fd` from offset 0: kNo when read. With RWF_NOWAIT (`flags`), EAGAIN
// or a short read of pages partly cached means some are not in the page cache.
Unheld ReadAll(int fd, size_t size, int flags, std::string* out) {
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    iovec iov{&(*out)[done], size - done};
    const ssize_t n = preadv2(fd, &iov, 1, static_cast<off_t>(done), flags);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return Unheld::kCold;
    // EINVAL: a kernel before 4.14 (no RWF_NOWAIT at all); ENOSYS: no preadv2 (some sandboxes).
    if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS) && flags) return Unheld::kCannotTell;
    return Unheld::kFailed;  // 0: it shrank; EIO and the like
  }
  return Unheld::kNo;
}

// A later read (the entry's stat was taken earlier): the bytes must be the ones `file` describes.
Unheld ReadUnchanged(const FileInfo& file, int flags, std::string* out) {
  const Unheld why = ReadAll(file.fd.get(), static_cast<size_t>(file.st.st_size), flags, out);
  struct stat now {};
  if (why == Unheld::kNo && (fstat(file.fd.get(), &now) != 0 || !SameFile(now, file.st))) return Unheld::kFailed;
  return why;
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
  if (size <= keep_bytes_max) {
    auto bytes = std::make_shared<std::string>();
    info->unheld = ReadAll(fd.get(), size, RWF_NOWAIT, bytes.get());
    if (info->unheld == Unheld::kNo) info->bytes = std::move(bytes);  // and the fd closes
  }
  if (!info->bytes) info->fd = std::move(fd);
  *out = std::move(info);
  return 0;
}

FileRef LoadCachedBytes(const FileInfo& file, Unheld* why) {
  auto bytes = std::make_shared<std::string>();
  *why = ReadUnchanged(file, RWF_NOWAIT, bytes.get());
  return *why == Unheld::kNo ? WithBytes(file, std::move(bytes)) : nullptr;
}

std::shared_ptr<const std::string> ReadWhole(const FileInfo& file) {
  auto bytes = std::make_shared<std::string>();
  if (ReadUnchanged(file, 0, bytes.get()) != Unheld::kNo) return nullptr;
  return bytes;
}

FileRef WithBytes(const FileInfo& file, std::shared_ptr<const std::string> bytes) {
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
