// 206 multipart/byteranges (RFC 9110 14.6): one part per range, each with its Content-Type
// and Content-Range, the ranges already sorted and coalesced by ParseRanges. A file held in
// memory makes the body from its bytes; any other (large, or not in the page cache) goes out
// as part headers in memory between file ranges, each range on its own descriptor (a dup) so
// the pool can sendfile them in turn: the I/O thread reads no file.
#include <unistd.h>

#include "ranges.h"
#include "static_files.h"

namespace kserver {
using kevent::UniqueFd;

bool StaticFiles::ServeMultipart(const Request& req, const FileInfo& file, const std::vector<ByteRange>& ranges, uint64_t size,
                                 std::string_view content_type, ResponseHead head, const ReplyContext& ctx,
                                 Reply* out) const {
  std::vector<std::string> part_heads;
  uint64_t length = 0;
  for (const ByteRange& r : ranges) {
    std::string h = "\r\n--" + boundary_ + "\r\nContent-Type: ";
    h += content_type;
    h += "\r\nContent-Range: bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" + std::to_string(size) + "\r\n\r\n";
    length += h.size() + r.length();
    part_heads.push_back(std::move(h));
  }
  std::string trailer = "\r\n--" + boundary_ + "--\r\n";
  length += trailer.size();
  head.Add("Content-Type", "multipart/byteranges; boundary=" + boundary_);
  head.AddLength(length);
  out->memory = head.Finish(ctx.keep_alive, req.http_minor == 0);
  if (req.head_only()) return true;

  if (file.bytes) {
    for (size_t i = 0; i < ranges.size(); ++i) {
      out->memory += part_heads[i];
      out->memory.append(*file.bytes, ranges[i].first, ranges[i].length());
    }
    out->memory += trailer;
    return true;
  }
  out->memory += part_heads[0];
  for (size_t i = 1; i < ranges.size(); ++i) {
    Reply::Piece piece;
    piece.memory = std::move(part_heads[i]);
    piece.file.reset(dup(file.fd.get()));
    if (!piece.file.valid()) return false;
    piece.offset = ranges[i].first;
    piece.length = ranges[i].length();
    out->more.push_back(std::move(piece));
  }
  Reply::Piece last;
  last.memory = std::move(trailer);
  out->more.push_back(std::move(last));
  out->file.reset(dup(file.fd.get()));
  if (!out->file.valid()) return false;
  out->offset = ranges[0].first;
  out->length = ranges[0].length();
  return true;
}

}  // namespace kserver
