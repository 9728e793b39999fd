// PathPattern (declared in ts/options.ts): `*` matches within one segment, `**` across
// segments, `?` one character other than '/'. A pattern without '/' is matched against the
// last segment only ('*.css'); one with '/' against the whole decoded path from the root
// ('/assets/**'; a missing leading '/' is implied). `**/` also matches no segment at all, so
// '/**/x.js' matches '/x.js'.
#pragma once
#include <string_view>

namespace kserver {

// `path` is the decoded URL path, starting with '/'.
bool PathPatternMatches(std::string_view pattern, std::string_view path);

}  // namespace kserver
