#include "path_pattern.h"

#include <algorithm>
#include <vector>

namespace kserver {
namespace {

enum class Kind { kChar, kOne, kStar, kGlobStar, kGlobStarSlash };
struct Token {
  Kind kind;
  char c;
};

std::vector<Token> Tokenize(std::string_view p) {
  std::vector<Token> out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '?') {
      out.push_back({Kind::kOne, 0});
    } else if (p[i] != '*') {
      out.push_back({Kind::kChar, p[i]});
    } else if (i + 1 < p.size() && p[i + 1] == '*') {
      while (i + 1 < p.size() && p[i + 1] == '*') ++i;  // '***' is '**'
      if (i + 1 < p.size() && p[i + 1] == '/') {
        ++i;
        out.push_back({Kind::kGlobStarSlash, 0});
      } else {
        out.push_back({Kind::kGlobStar, 0});
      }
    } else {
      out.push_back({Kind::kStar, 0});
    }
  }
  return out;
}

// Dynamic programming over (token, position): linear memory and O(tokens * length) time, so
// no pattern can make a long request path expensive the way backtracking could.
bool Match(const std::vector<Token>& tokens, std::string_view s) {
  const size_t n = s.size();
  // row[j]: tokens[0..i) match s[0..j).
  std::vector<char> row(n + 1, 0), next(n + 1, 0);
  row[0] = 1;
  for (const Token& t : tokens) {
    std::fill(next.begin(), next.end(), 0);
    switch (t.kind) {
      case Kind::kChar:
        for (size_t j = 0; j < n; ++j) next[j + 1] = row[j] && s[j] == t.c;
        break;
      case Kind::kOne:
        for (size_t j = 0; j < n; ++j) next[j + 1] = row[j] && s[j] != '/';
        break;
      case Kind::kStar:
        next[0] = row[0];
        for (size_t j = 0; j < n; ++j) next[j + 1] = row[j + 1] || (next[j] && s[j] != '/');
        break;
      case Kind::kGlobStar:
        next[0] = row[0];
        for (size_t j = 0; j < n; ++j) next[j + 1] = row[j + 1] || next[j];
        break;
      case Kind::kGlobStarSlash: {
        // Nothing, or anything ending in '/'.
        bool seen = false;
        for (size_t j = 0; j <= n; ++j) {
          if (j > 0 && s[j - 1] == '/' && seen) next[j] = 1;
          if (row[j]) {
            seen = true;
            next[j] = 1;
          }
        }
        break;
      }
    }
    row.swap(next);
  }
  return row[n] != 0;
}

}  // namespace

bool PathPatternMatches(std::string_view pattern, std::string_view path) {
  if (pattern.find('/') == std::string_view::npos) {
    const size_t slash = path.rfind('/');
    return Match(Tokenize(pattern), slash == std::string_view::npos ? path : path.substr(slash + 1));
  }
  if (pattern.front() != '/' && !path.empty() && path.front() == '/') path.remove_prefix(1);
  return Match(Tokenize(pattern), path);
}

}  // namespace kserver
