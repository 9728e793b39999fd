// Building response heads: status line, Server, Date, the headers a handler adds, and the
// Connection header that says whether the connection stays open.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace kserver {

const char* ReasonPhrase(int status);

class ResponseHead {
 public:
  // `buffer`: an empty string whose capacity to write into (a thread's spare), if any.
  ResponseHead(int status, std::string_view date, std::string buffer = {});
  void Add(std::string_view name, std::string_view value);
  void AddLength(uint64_t length);
  // Whole header lines, each ending in CRLF (a cached file's precomputed ones).
  void AddLines(std::string_view lines) { buf_ += lines; }
  // Appends Connection (when the default for `http10` does not already say it), then `tail`
  // (whole header lines that go last, a handler's), and the blank line, and gives the bytes away.
  std::string Finish(bool keep_alive, bool http10, std::string_view tail = {});

 private:
  std::string buf_;
};

// A complete response with a short text/plain body ("404 Not Found\n"); `extra` holds more
// header lines, each ending in CRLF.
std::string SimpleResponse(int status, std::string_view date, bool keep_alive, bool http10, bool head_only,
                           std::string_view extra = {});

}  // namespace kserver
