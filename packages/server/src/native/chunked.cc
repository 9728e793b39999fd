#include "chunked.h"

#include <algorithm>

#include "text.h"

namespace kserver {
namespace {
bool IsCtlButTab(char c) { return c != '\t' && IsCtl(static_cast<unsigned char>(c)); }
}  // namespace

ChunkedDecoder::Result ChunkedDecoder::Feed(const char* data, size_t len, size_t* consumed, std::string* sink) {
  size_t i = 0;
  while (i < len) {
    const char c = data[i];
    switch (state_) {
      case State::kSize: {
        const int h = HexDigit(c);
        if (h >= 0) {
          // 16 hex digits overflow nothing, but no body limit is that large: cap at 15.
          if (++size_digits_ > 15) return Fail(400);
          size_ = size_ * 16 + static_cast<uint64_t>(h);
        } else if (size_digits_ == 0) {
          return Fail(400);
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kExtension;
          extension_ = 1;
        } else {
          return Fail(400);
        }
        ++i;
        break;
      }
      case State::kExtension:
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (IsCtlButTab(c) || ++extension_ > max_extension_) {
          return Fail(400);
        }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return Fail(400);
        ++i;
        if (size_ == 0) {
          state_ = State::kTrailerStart;
        } else {
          if (total_ + size_ > max_body_) return Fail(413);
          state_ = State::kData;
        }
        break;
      case State::kData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(size_, len - i));
        if (sink) sink->append(data + i, take);
        i += take;
        size_ -= take;
        total_ += take;
        if (size_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return Fail(400);
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return Fail(400);
        state_ = State::kSize;
        size_digits_ = 0;
        extension_ = 0;
        ++i;
        break;
      case State::kTrailerStart:
        // An empty line ends the message; anything else is a trailer field, which we drop.
        if (c == '\r') {
          state_ = State::kLastLf;
        } else if (c == ' ' || c == '\t' || c == '\n' || IsCtlButTab(c)) {
          return Fail(400);  // obs-fold, bare LF
        } else {
          state_ = State::kTrailer;
        }
        ++i;
        ++trailer_;
        break;
      case State::kTrailer:
        if (c == '\r') state_ = State::kTrailerLf;
        else if (c == '\n' || IsCtlButTab(c)) return Fail(400);
        if (++trailer_ > max_trailer_) return Fail(431);
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') return Fail(400);
        state_ = State::kTrailerStart;
        ++i;
        break;
      case State::kLastLf:
        if (c != '\n') return Fail(400);
        *consumed = i + 1;
        return Result::kDone;
    }
  }
  *consumed = len;
  return Result::kNeedMore;
}

}  // namespace kserver
