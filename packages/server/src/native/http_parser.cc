#include "http_parser.h"

#include <llhttp.h>

#include <algorithm>
#include <cstring>

#include "text.h"

namespace kserver {
namespace {

// Byte classes of the strict pass and ASCII lower case, one table lookup per byte.
enum : uint8_t { kTchar = 1 };
struct ByteClasses {
  uint8_t of[256] = {};
  char lower[256] = {};
  constexpr ByteClasses() {
    for (int c = 0; c < 256; ++c) {
      const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      bool punct = false;
      for (const char* p = "!#$%&'*+-.^_`|~"; *p; ++p) punct |= *p == c;
      of[c] = alnum || punct ? kTchar : 0;
      lower[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    }
  }
};
constexpr ByteClasses kBytes;

bool IsTchar(unsigned char c) { return kBytes.of[c] & kTchar; }

// True when no byte of [p, p + n) is a control character (HTAB allowed if `tab_ok`). Eight
// bytes at a time: a word with no byte below 0x20 and none equal to 0x7f is clean, and
// only a word that may hold one is looked at byte by byte.
bool NoCtl(const char* p, size_t n, bool tab_ok) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
    const uint64_t x7f = w ^ (kOnes * 0x7f);
    const uint64_t is_del = (x7f - kOnes) & ~x7f & kHigh;
    if (!(below_space | is_del)) continue;
    for (size_t k = i; k < i + 8; ++k) {
      const unsigned char c = static_cast<unsigned char>(p[k]);
      if (IsCtl(c) && !(tab_ok && c == '\t')) return false;
    }
  }
  for (; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (IsCtl(c) && !(tab_ok && c == '\t')) return false;
  }
  return true;
}

// ASCII only, as header names are: no locale lookup per character.
bool SameName(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (kBytes.lower[static_cast<unsigned char>(a[i])] != lower[i]) return false;
  return true;
}

// Calls f with each comma-separated list member, trimmed, empty ones skipped (no copies:
// members are compared with SameName).
template <typename F>
void ForEachToken(std::string_view v, F f) {
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string_view::npos) comma = v.size();
    const std::string_view t = TrimOws(v.substr(start, comma - start));
    if (!t.empty()) f(t);
    start = comma + 1;
  }
}

// The strict pass. Finds the end of the head and checks every line before llhttp sees it.
HeadResult ScanHead(const char* data, size_t len, const HeadLimits& limits, size_t* head_len, int* status) {
  size_t pos = 0;
  size_t count = 0;
  for (bool first = true;; first = false) {
    const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', len - pos));
    if (!nl) {
      if (first && len - pos > limits.max_request_line) return *status = 414, HeadResult::kError;
      if (len > limits.max_header_size) return *status = 431, HeadResult::kError;
      return HeadResult::kNeedMore;
    }
    const size_t end = static_cast<size_t>(nl - data);
    if (end == pos || data[end - 1] != '\r') return *status = 400, HeadResult::kError;  // bare LF
    const std::string_view line(data + pos, end - 1 - pos);
    if (end + 1 > limits.max_header_size) return *status = 431, HeadResult::kError;
    if (first) {
      if (line.size() > limits.max_request_line) return *status = 414, HeadResult::kError;
      // NUL, bare CR, tabs and other controls have no place in a request line.
      if (!NoCtl(line.data(), line.size(), false)) return *status = 400, HeadResult::kError;
    } else if (line.empty()) {
      *head_len = end + 1;
      return HeadResult::kDone;
    } else {
      if (line[0] == ' ' || line[0] == '\t') return *status = 400, HeadResult::kError;  // obs-fold
      // Token characters up to the colon: rejects whitespace before it, NUL, controls.
      size_t colon = 0;
      while (colon < line.size() && IsTchar(static_cast<unsigned char>(line[colon]))) ++colon;
      if (colon == 0 || colon == line.size() || line[colon] != ':') return *status = 400, HeadResult::kError;
      if (!NoCtl(line.data() + colon + 1, line.size() - colon - 1, true))
        return *status = 400, HeadResult::kError;  // bare CR, NUL
      if (++count > limits.max_headers) return *status = 431, HeadResult::kError;
    }
    pos = end + 1;
  }
}

struct Collector {
  Request* req;
  bool in_value = false;
};

int OnUrl(llhttp_t* p, const char* at, size_t n) {
  static_cast<Collector*>(p->data)->req->target.append(at, n);
  return 0;
}

int OnField(llhttp_t* p, const char* at, size_t n) {
  auto* c = static_cast<Collector*>(p->data);
  if (c->in_value || c->req->headers.empty()) c->req->headers.emplace_back();
  c->in_value = false;
  c->req->headers.back().first.append(at, n);
  return 0;
}

int OnValue(llhttp_t* p, const char* at, size_t n) {
  auto* c = static_cast<Collector*>(p->data);
  c->in_value = true;
  c->req->headers.back().second.append(at, n);
  return 0;
}

// Bodies are framed by our own decoder: llhttp stops at the end of the head.
int OnHeadersComplete(llhttp_t*) { return 1; }

const llhttp_settings_t& Settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_url = OnUrl;
    s.on_header_field = OnField;
    s.on_header_value = OnValue;
    s.on_headers_complete = OnHeadersComplete;
    return s;
  }();
  return settings;
}

// Framing and semantics after the grammar: RFC 9112 6 and the smuggling rules.
int CheckFraming(Request* req) {
  const std::string* length = nullptr;
  // The codings of every Transfer-Encoding field, in order, as one list.
  size_t codings = 0;
  std::string_view last_coding;
  int te_count = 0, host_count = 0;
  for (const auto& header : req->headers) req->name_sizes |= uint64_t{1} << std::min<size_t>(header.first.size(), 63);
  for (auto& [name, value] : req->headers) {
    const std::string_view trimmed = TrimOws(value);
    if (trimmed.size() != value.size()) value = std::string(trimmed);
    if (SameName(name, "content-length")) {
      if (length) return 400;  // duplicate, even with equal values
      length = &value;
    } else if (SameName(name, "transfer-encoding")) {
      ++te_count;
      ForEachToken(value, [&](std::string_view t) {
        ++codings;
        last_coding = t;
      });
    } else if (SameName(name, "host")) {
      ++host_count;
    }
  }
  if (length && te_count) return 400;
  if (req->http_minor >= 1 && host_count != 1) return 400;
  if (host_count > 1) return 400;
  if (te_count) {
    if (req->http_minor == 0) return 400;  // HTTP/1.0 has no chunked framing
    if (codings == 0 || !SameName(last_coding, "chunked")) return 400;
    if (codings > 1) return 501;  // we decode no transfer coding but chunked
    req->body = Request::Body::kChunked;
  } else if (length) {
    if (!ParseDecimal(*length, &req->content_length)) return 400;
    if (req->content_length > 0) req->body = Request::Body::kLength;
  }
  bool close = false, keep = false;
  for (const auto& [name, value] : req->headers) {
    if (SameName(name, "connection")) {
      ForEachToken(value, [&](std::string_view t) {
        close |= SameName(t, "close");
        keep |= SameName(t, "keep-alive");
      });
    } else if (SameName(name, "expect")) {
      if (!SameName(value, "100-continue")) return 417;
      req->expect_continue = req->http_minor >= 1;
    }
  }
  req->keep_alive = !close && (req->http_minor >= 1 || keep);
  return 0;
}

}  // namespace

void Request::Clear() {
  // A buffer grown by an unusual request (a long URL, a buffered body) is not kept.
  constexpr size_t kKeep = 4096;
  auto reset = [](std::string& s) {
    if (s.capacity() > kKeep) std::string().swap(s);
    else s.clear();
  };
  reset(method);
  reset(target);
  reset(content);
  if (headers.capacity() > 32) std::vector<std::pair<std::string, std::string>>().swap(headers);
  else headers.clear();
  http_minor = 1;
  keep_alive = true;
  expect_continue = false;
  body = Body::kNone;
  content_length = 0;
  name_sizes = 0;
}

const std::string* Request::Header(std::string_view lower_name) const {
  if (!(name_sizes & (uint64_t{1} << std::min<size_t>(lower_name.size(), 63)))) return nullptr;
  for (const auto& [name, value] : headers)
    if (SameName(name, lower_name)) return &value;
  return nullptr;
}

HeadResult ParseHead(const char* data, size_t len, const HeadLimits& limits, Request* out, size_t* consumed,
                     int* status) {
  size_t head_len = 0;
  HeadResult r = ScanHead(data, len, limits, &head_len, status);
  if (r != HeadResult::kDone) return r;
  out->Clear();
  Collector collector{out};
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &Settings());
  parser.data = &collector;
  const llhttp_errno_t err = llhttp_execute(&parser, data, head_len);
  if (err != HPE_OK && err != HPE_PAUSED_UPGRADE) return *status = 400, HeadResult::kError;
  if (llhttp_get_http_major(&parser) != 1) return *status = 505, HeadResult::kError;
  out->http_minor = llhttp_get_http_minor(&parser) == 0 ? 0 : 1;
  out->method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(&parser)));
  if (int s = CheckFraming(out)) return *status = s, HeadResult::kError;
  *consumed = head_len;
  return HeadResult::kDone;
}

}  // namespace kserver
