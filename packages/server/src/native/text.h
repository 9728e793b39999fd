// Small byte-level helpers the parsers share.
#pragma once
#include <cstdint>
#include <string_view>

namespace kserver {

inline int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Control characters: everything below 0x20 and DEL (HTAB included; callers allow it where
// the grammar does).
inline bool IsCtl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Optional whitespace (SP / HTAB) trimmed from both ends.
inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1*DIGIT of at most 19 digits (which cannot overflow 64 bits); false otherwise.
inline bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

}  // namespace kserver
