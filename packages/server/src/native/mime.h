// Content-Type by file extension, with charset=utf-8 for text types.
#pragma once
#include <string>
#include <string_view>

namespace kserver {

// The full header value for `path` (by its last extension, case-insensitive);
// application/octet-stream when unknown.
std::string ContentTypeFor(std::string_view path);

}  // namespace kserver
