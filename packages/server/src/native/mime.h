// Content-Type by file extension, with charset=utf-8 for text types.
#pragma once
#include <map>
#include <string>
#include <string_view>

namespace kserver {

// The full header value for `path` (by its last extension, case-insensitive), from `extra`
// (lower-cased extension -> type, the user's additions) first, then the built-in table;
// application/octet-stream when unknown.
std::string ContentTypeFor(std::string_view path, const std::map<std::string, std::string>& extra = {});

}  // namespace kserver
