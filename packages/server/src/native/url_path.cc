#include "url_path.h"

#include <algorithm>

#include "text.h"

namespace kserver {
namespace {

// Strict UTF-8 (RFC 3629): no overlong forms (so "%c0%ae" is not a '.'), no surrogates.
bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) n = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) n = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) n = 3, cp = c & 0x07;
    else return false;
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

}  // namespace

int ResolveUrlPath(std::string_view target, UrlPath* out) {
  // absolute-form (RFC 9112 3.2.2): the authority is not ours to check for a static root.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.substr(0, scheme.size()) == scheme) {
      const size_t slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  if (target.empty() || target[0] != '/') return 400;
  size_t q = 0;
  while (q < target.size() && target[q] != '?' && target[q] != '#') ++q;
  out->raw_path.assign(target.data(), q);
  if (q < target.size() && target[q] == '?') {
    const std::string_view query = target.substr(q);
    out->raw_query.assign(query.data(), std::min(query.size(), query.find('#')));
  } else {
    out->raw_query.clear();
  }

  const std::string& raw = out->raw_path;
  // Nothing to decode (the usual path): no copy, no per-byte rebuild.
  const bool plain = std::none_of(raw.begin(), raw.end(), [](char c) { return c == '%' || c == '\\'; });
  std::string decoded;
  if (!plain) decoded.reserve(raw.size());
  for (size_t i = 0; !plain && i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return 400;
      const int hi = HexDigit(raw[i + 1]), lo = HexDigit(raw[i + 2]);
      if (hi < 0 || lo < 0) return 400;
      c = static_cast<char>(hi * 16 + lo);
      if (c == '/' || c == '\0') return 400;  // an encoded slash would hide a segment boundary
      i += 2;
    }
    if (c == '\\') return 400;  // a separator elsewhere; never a file name here
    decoded += c;
  }
  const std::string_view path = plain ? std::string_view(raw) : std::string_view(decoded);
  if (!ValidUtf8(path)) return 400;

  // Segments are appended to `relative` as they come; ".." cuts the last one off again.
  std::string& rel = out->relative;
  rel.clear();
  std::string_view rest(path);
  bool dir = true;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    dir = slash != std::string_view::npos;
    if (seg.empty() || seg == ".") {
      dir = true;
      continue;
    }
    if (seg == "..") {
      if (rel.empty()) return 400;
      const size_t last = rel.rfind('/');
      rel.resize(last == std::string::npos ? 0 : last);
      dir = true;
      continue;
    }
    if (!rel.empty()) rel += '/';
    rel += seg;
  }
  out->trailing_slash = dir;
  // Only the segments that remain count: "a/.x/../b" names no dotfile.
  out->has_dot_segment = !rel.empty() && (rel[0] == '.' || rel.find("/.") != std::string::npos);
  return 0;
}

}  // namespace kserver
