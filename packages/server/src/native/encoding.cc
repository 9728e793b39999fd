#include "encoding.h"

#include <strings.h>

#include <algorithm>
#include <string>

#include "text.h"

namespace kserver {
namespace {

bool Equals(std::string_view a, const char* b) {
  const size_t n = std::char_traits<char>::length(b);
  return a.size() == n && strncasecmp(a.data(), b, n) == 0;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths; -1 if malformed.
int ParseQ(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int q = (v[0] - '0') * 1000;
  if (v.size() == 1) return q;
  if (v[1] != '.' || v.size() > 5) return -1;
  int scale = 100;
  for (size_t i = 2; i < v.size(); ++i, scale /= 10) {
    if (v[i] < '0' || v[i] > '9') return -1;
    q += (v[i] - '0') * scale;
  }
  return q > 1000 ? -1 : q;
}

}  // namespace

int AcceptableCodings(std::string_view header, Coding out[2]) {
  int br = -1, gzip = -1, star = -1;  // -1: not named
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const size_t semi = item.find(';');
    const std::string_view coding = TrimOws(item.substr(0, semi));
    int q = 1000;
    std::string_view params = semi == std::string_view::npos ? std::string_view() : item.substr(semi + 1);
    while (!params.empty()) {
      const size_t next = params.find(';');
      const std::string_view param = TrimOws(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') q = std::max(ParseQ(param.substr(2)), 0);
    }
    if (Equals(coding, "br")) br = q;
    else if (Equals(coding, "gzip") || Equals(coding, "x-gzip")) gzip = q;
    else if (coding == "*") star = q;
  }
  if (br < 0) br = star < 0 ? 0 : star;
  if (gzip < 0) gzip = star < 0 ? 0 : star;
  int n = 0;
  const Coding kBr{"br", ".br"}, kGzip{"gzip", ".gz"};
  if (br > 0 && br >= gzip) out[n++] = kBr;
  if (gzip > 0) out[n++] = kGzip;
  if (br > 0 && br < gzip) out[n++] = kBr;
  return n;
}

}  // namespace kserver
