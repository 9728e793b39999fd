#include "rules.h"

#include <strings.h>

#include <algorithm>
#include <ctime>
#include <initializer_list>
#include <string>

#include "http_date.h"
#include "path_pattern.h"
#include "text.h"

namespace kserver {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

bool IsNamed(std::string_view name, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (name.size() == std::char_traits<char>::length(n) && StartsWithNoCase(name, n)) return true;
  return false;
}

bool Skipped(std::string_view name, bool not_modified) {
  if (IsNamed(name, {"content-length", "transfer-encoding", "connection", "date", "server"})) return true;
  if (!not_modified) return false;
  return StartsWithNoCase(name, "content-") && !IsNamed(name, {"content-location"}) &&
         !StartsWithNoCase(name, "content-security-policy");
}

// max-age=N in a Cache-Control value (not s-maxage); false when absent or malformed.
bool MaxAge(std::string_view value, uint64_t* seconds) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view d = TrimOws(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (!StartsWithNoCase(d, "max-age=")) continue;
    d.remove_prefix(8);
    if (d.size() >= 2 && d.front() == '"' && d.back() == '"') d = d.substr(1, d.size() - 2);
    return ParseDecimal(d, seconds);
  }
  return false;
}

}  // namespace

void AddRuleHeaders(const Options& options, std::string_view path, bool not_modified, ResponseHead* head) {
  for (const CacheRule& rule : options.cache_rules) {
    if (!PathPatternMatches(rule.match, path)) continue;
    head->Add("Cache-Control", rule.cache_control);
    uint64_t age = 0;
    if (MaxAge(rule.cache_control, &age)) {
      constexpr uint64_t kHundredYears = 100ull * 366 * 24 * 3600;  // keeps time_t from overflowing
      head->Add("Expires", FormatHttpDate(time(nullptr) + static_cast<time_t>(std::min(age, kHundredYears))));
    }
    break;
  }
  for (const HeaderRule& rule : options.header_rules) {
    if (!PathPatternMatches(rule.match, path)) continue;
    for (const auto& [name, value] : rule.headers)
      if (!Skipped(name, not_modified)) head->Add(name, value);
  }
}

}  // namespace kserver
