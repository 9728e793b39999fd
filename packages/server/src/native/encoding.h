// Accept-Encoding negotiation for precompressed siblings (RFC 9110 12.5.3): which of br and
// gzip a request accepts, best first.
#pragma once
#include <string_view>

namespace kserver {

struct Coding {
  const char* name;    // "br" or "gzip", as sent in Content-Encoding
  const char* suffix;  // ".br" or ".gz", the sibling's file name suffix
};

// Fills `out` with the acceptable codings, highest q first (br before gzip on a tie), and
// returns how many (0..2). q=0 refuses a coding; `*` stands for codings not named; x-gzip is
// gzip. A malformed q makes its element refuse.
int AcceptableCodings(std::string_view accept_encoding, Coding out[2]);

}  // namespace kserver
