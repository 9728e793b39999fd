#include "file_info.h"

#include <errno.h>
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
  auto bytes = std::make_shared<std::string>();
  // A file that shrank under the read keeps its fd instead and is sent from there.
  if (static_cast<uint64_t>(info->st.st_size) <= keep_bytes_max && ReadAt(fd.get(), 0, size, bytes.get()))
    info->bytes = std::move(bytes);
  else
    info->fd = std::move(fd);
  *out = std::move(info);
  return 0;
}

}  // namespace kserver
