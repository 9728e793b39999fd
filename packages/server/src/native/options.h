// Everything a user can tune; the TypeScript side validates and fills defaults, the addon
// copies them here once at createEngine.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kserver {

enum class Dotfiles { kDeny, kIgnore, kAllow };  // 403, 404, serve

// Patterns as documented in ts/options.ts (PathPattern); validated there.
struct CacheRule {
  std::string match;
  std::string cache_control;
};
struct HeaderRule {
  std::string match;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 1;
  bool reuse_port = false;
  int backlog = 4096;  // the kernel caps it at net.core.somaxconn

  std::string root;      // empty: no static files, every request goes to the handler
  bool handler = false;  // a JS handler takes what static files do not (missing files)
  std::vector<std::string> index = {"index.html"};
  Dotfiles dotfiles = Dotfiles::kDeny;
  bool follow_symlinks = false;
  size_t small_file_max = 64 * 1024;  // sent from memory; larger files go by sendfile
  bool listing = false;
  bool precompressed = true;
  std::map<std::string, std::string> mime_types;  // lower-cased extension -> type, over the built-in table
  std::vector<CacheRule> cache_rules;
  std::vector<HeaderRule> header_rules;
  std::map<int, std::string> error_pages;  // status -> path under root
  size_t max_ranges = 16;
  size_t file_cache_entries = 1024;  // per I/O thread; 0: no cache
  int file_cache_ttl_ms = 1000;
  bool access_log = false;  // set when JS passed an accessLog function
  size_t access_log_limit = 65536;  // records handed to JS and not yet taken; past it, dropped

  size_t max_request_line = 8 * 1024;   // 414
  size_t max_header_size = 16 * 1024;   // 431 (whole header block, request line included)
  size_t max_headers = 100;             // 431
  uint64_t max_body_size = 1024 * 1024; // 413
  size_t max_chunk_extension = 1024;    // 400: per chunk-size line
  uint32_t max_requests_per_connection = 10000;  // 0: no limit
  uint32_t max_connections = 16384;     // past it, accepting pauses and clients wait in the backlog

  int header_timeout_ms = 10000;  // request start to end of headers: 408 and close
  int body_timeout_ms = 10000;    // between two reads of a body: 408 and close
  int idle_timeout_ms = 5000;     // keep-alive wait for the next request: close
  int send_timeout_ms = 30000;    // no send progress: close
  int linger_ms = 1000;           // reading and dropping input after a closing response
};

}  // namespace kserver
