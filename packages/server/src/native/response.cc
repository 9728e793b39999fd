#include "response.h"

#include <cstring>

namespace kserver {

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

ResponseHead::ResponseHead(int status, std::string_view date, std::string buffer) : buf_(std::move(buffer)) {
  buf_.clear();
  buf_.reserve(256);
  // The status line and the fixed headers in one piece: a few appends, not one per field.
  char start[96];
  std::memcpy(start, "HTTP/1.1 ", 9);
  size_t n = 9;
  if (status >= 100 && status <= 999) {
    start[n++] = static_cast<char>('0' + status / 100);
    start[n++] = static_cast<char>('0' + status / 10 % 10);
    start[n++] = static_cast<char>('0' + status % 10);
  } else {
    const std::string digits = std::to_string(status);
    n += digits.copy(start + n, 11);
  }
  start[n++] = ' ';
  const std::string_view reason = ReasonPhrase(status);
  std::memcpy(start + n, reason.data(), reason.size());
  n += reason.size();
  static constexpr std::string_view kFixed = "\r\nServer: kevent-http\r\nDate: ";
  std::memcpy(start + n, kFixed.data(), kFixed.size());
  n += kFixed.size();
  buf_.append(start, n);
  buf_ += date;
  buf_.append("\r\n", 2);
}

void ResponseHead::Add(std::string_view name, std::string_view value) {
  buf_ += name;
  buf_ += ": ";
  buf_ += value;
  buf_ += "\r\n";
}

void ResponseHead::AddLength(uint64_t length) {
  // One append for the whole line; the digits are written backwards into its end.
  char line[48] = "Content-Length: ";
  char digits[21];
  size_t d = sizeof digits;
  do {
    digits[--d] = static_cast<char>('0' + length % 10);
    length /= 10;
  } while (length);
  size_t n = 16;
  std::memcpy(line + n, digits + d, sizeof digits - d);
  n += sizeof digits - d;
  line[n++] = '\r';
  line[n++] = '\n';
  buf_.append(line, n);
}

std::string ResponseHead::Finish(bool keep_alive, bool http10, std::string_view tail) {
  if (!keep_alive) buf_ += "Connection: close\r\n";
  else if (http10) buf_ += "Connection: keep-alive\r\n";
  if (!tail.empty()) buf_ += tail;
  buf_.append("\r\n", 2);
  return std::move(buf_);
}

std::string SimpleResponse(int status, std::string_view date, bool keep_alive, bool http10, bool head_only,
                           std::string_view extra) {
  ResponseHead head(status, date);
  std::string body = std::to_string(status) + " " + ReasonPhrase(status) + "\n";
  head.Add("Content-Type", "text/plain; charset=utf-8");
  head.AddLength(body.size());
  std::string out = head.Finish(keep_alive, http10, extra);
  if (!head_only) out += body;
  return out;
}

}  // namespace kserver
