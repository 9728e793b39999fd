// A strict decoder for chunked request bodies (RFC 9112 7.1). It is ours rather than
// llhttp's so that every framing decision sits next to the limits: chunk-size overflow,
// chunk-extension length, bare CR/LF in size lines and trailers, and the body size limit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace kserver {

class ChunkedDecoder {
 public:
  enum class Result { kNeedMore, kDone, kError };

  ChunkedDecoder(uint64_t max_body, size_t max_extension, size_t max_trailer)
      : max_body_(max_body), max_extension_(max_extension), max_trailer_(max_trailer) {}

  // Consumes from `data`, appending the decoded body to `sink` when it is not null. kDone:
  // the message ended `*consumed` bytes in; kError: `status()` (400 or 413).
  Result Feed(const char* data, size_t len, size_t* consumed, std::string* sink);
  int status() const { return status_; }
  uint64_t body_bytes() const { return total_; }

 private:
  enum class State { kSize, kExtension, kSizeLf, kData, kDataCr, kDataLf, kTrailerStart, kTrailer, kTrailerLf, kLastLf };
  Result Fail(int status) {
    status_ = status;
    return Result::kError;
  }

  uint64_t max_body_;
  size_t max_extension_;
  size_t max_trailer_;
  State state_ = State::kSize;
  uint64_t size_ = 0;
  int size_digits_ = 0;
  size_t extension_ = 0;
  size_t trailer_ = 0;
  uint64_t total_ = 0;
  int status_ = 0;
};

}  // namespace kserver
