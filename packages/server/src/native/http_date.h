// IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
#pragma once
#include <ctime>
#include <string>
#include <string_view>

namespace kserver {

std::string FormatHttpDate(time_t t);
// Accepts IMF-fixdate only, as most servers send; -1 for anything else (the header is ignored).
time_t ParseHttpDate(std::string_view s);

}  // namespace kserver
