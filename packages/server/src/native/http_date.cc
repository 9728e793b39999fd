#include "http_date.h"

#include <cstring>

namespace kserver {
namespace {
const char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
const char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}
}  // namespace

std::string FormatHttpDate(time_t t) {
  tm g{};
  gmtime_r(&t, &g);
  char buf[32];
  strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &g);
  return buf;
}

time_t ParseHttpDate(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions.
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
      s[22] != ':' || s.substr(25) != " GMT")
    return -1;
  bool day_ok = false;
  for (const char* d : kDays) day_ok |= s.compare(0, 3, d) == 0;
  if (!day_ok) return -1;
  int mon = -1;
  for (int i = 0; i < 12; ++i)
    if (s.compare(8, 3, kMonths[i]) == 0) mon = i;
  tm g{};
  if (mon < 0 || !Digits(s, 5, 2, &g.tm_mday) || !Digits(s, 12, 4, &g.tm_year) || !Digits(s, 17, 2, &g.tm_hour) ||
      !Digits(s, 20, 2, &g.tm_min) || !Digits(s, 23, 2, &g.tm_sec))
    return -1;
  if (g.tm_mday < 1 || g.tm_mday > 31 || g.tm_hour > 23 || g.tm_min > 59 || g.tm_sec > 60) return -1;
  g.tm_mon = mon;
  g.tm_year -= 1900;
  return timegm(&g);
}

}  // namespace kserver
