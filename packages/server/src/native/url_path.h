// From a request-target to a path relative to the document root, decided once, up front:
// percent-decoding happens exactly once, and the result can never name anything above the root.
#pragma once
#include <string>
#include <string_view>

namespace kserver {

struct UrlPath {
  std::string relative;    // "a/b.html"; "" for the root itself; no "." or ".." segments
  bool trailing_slash = false;
  bool has_dot_segment = false;  // a segment (file or directory) whose name starts with '.'
  std::string raw_path;    // the target's path as sent, for redirects
  std::string raw_query;   // "?..." as sent, or empty
};

// 0, or the status to answer: 400 for a malformed target, an encoded '/' or NUL, a backslash,
// invalid or overlong UTF-8, or ".." above the root.
int ResolveUrlPath(std::string_view target, UrlPath* out);

}  // namespace kserver
