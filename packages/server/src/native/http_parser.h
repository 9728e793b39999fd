// Request heads: our strict pass over the raw header block, then llhttp for the grammar,
// then our framing rules. llhttp (Debian's 8.1) lacks the fixes for bare CR (CVE-2023-30589),
// obs-fold / space before a colon (CVE-2024-27982) and "\r\n\rX" (CVE-2025-23167), and sets
// no size limits, so the pass before it owns those; bodies are framed by chunked.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kserver {

struct Request {
  std::string method;
  int http_minor = 1;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names as the client wrote them
  bool keep_alive = true;
  bool expect_continue = false;
  enum class Body { kNone, kLength, kChunked } body = Body::kNone;
  uint64_t content_length = 0;
  std::string content;  // the body, kept only when a JS handler may take the request
  // Bit min(size, 63) set for the size of every header name: most Header() lookups (the
  // conditional and range headers a static file checks) end on one test.
  uint64_t name_sizes = 0;

  // Back to a fresh request, keeping the capacity of small buffers: an I/O thread reuses one
  // Request for request after request instead of allocating one per request.
  void Clear();
  // Header names compare case-insensitively; `lower_name` is given in lower case.
  const std::string* Header(std::string_view lower_name) const;
  bool head_only() const { return std::string_view(method) == "HEAD"; }
};

struct HeadLimits {
  size_t max_request_line;
  size_t max_header_size;
  size_t max_headers;
};

enum class HeadResult { kNeedMore, kDone, kError };

// Parses one request head from the start of `data`. kDone: `*consumed` bytes were the head.
// kError: `*status` is the answer (400, 414, 431, 417, 501, 505) and the connection must close.
HeadResult ParseHead(const char* data, size_t len, const HeadLimits& limits, Request* out, size_t* consumed,
                     int* status);

}  // namespace kserver
