// mod_expire-like Cache-Control / Expires rules and custom headers, chosen by PathPattern.
#pragma once
#include <string_view>

#include "options.h"
#include "response.h"

namespace kserver {

// The first matching cache rule's Cache-Control, and Expires = now + max-age when it has
// one; then the headers of every matching header rule, in order. `path` is the decoded URL
// path ("/a/b.css"). On a 304 (`not_modified`), header-rule fields that describe the body
// (Content-*, except Content-Location and Content-Security-Policy*) are left out, as RFC
// 9110 15.4.5 asks; the framing headers the engine owns are never taken from a rule.
void AddRuleHeaders(const Options& options, std::string_view path, bool not_modified, ResponseHead* head);

}  // namespace kserver
