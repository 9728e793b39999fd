#include "response.h"

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

ResponseHead::ResponseHead(int status, std::string_view date) {
  buf_.reserve(256);
  buf_ += "HTTP/1.1 ";
  buf_ += std::to_string(status);
  buf_ += ' ';
  buf_ += ReasonPhrase(status);
  buf_ += "\r\nServer: kevent-http\r\nDate: ";
  buf_ += date;
  buf_ += "\r\n";
}

void ResponseHead::Add(std::string_view name, std::string_view value) {
  buf_ += name;
  buf_ += ": ";
  buf_ += value;
  buf_ += "\r\n";
}

void ResponseHead::AddLength(uint64_t length) { Add("Content-Length", std::to_string(length)); }

std::string ResponseHead::Finish(bool keep_alive, bool http10) {
  if (!keep_alive) buf_ += "Connection: close\r\n";
  else if (http10) buf_ += "Connection: keep-alive\r\n";
  buf_ += "\r\n";
  return std::move(buf_);
}

std::string SimpleResponse(int status, std::string_view date, bool keep_alive, bool http10, bool head_only,
                           std::string_view extra) {
  ResponseHead head(status, date);
  std::string body = std::to_string(status) + " " + ReasonPhrase(status) + "\n";
  head.Add("Content-Type", "text/plain; charset=utf-8");
  head.AddLength(body.size());
  std::string out = head.Finish(keep_alive, http10);
  // Finish ended the head; the extra lines belong before its blank line.
  if (!extra.empty()) out.insert(out.size() - 2, extra);
  if (!head_only) out += body;
  return out;
}

}  // namespace kserver
