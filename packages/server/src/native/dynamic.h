// Requests the static handler does not take, on their way to the JS handler and back.
// An I/O thread hands JS a whole batch at once and gets the answers back in batches, so
// there is one thread crossing per batch, never per request or per header.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kserver {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct DynamicRequest {
  uint64_t conn;  // connection id on its thread
  uint64_t seq;   // position among that connection's responses
  std::string method;
  std::string target;
  HeaderList headers;  // names lower-cased
  std::string body;
  int http_minor;
};

struct DynamicBatch {
  int thread;
  std::vector<DynamicRequest> requests;
};

struct DynamicResponse {
  uint64_t conn;
  uint64_t seq;
  int status;
  HeaderList headers;
  std::string body;
};

// Delivers a batch to JS from an I/O thread, taking it (leaving null) on success; false,
// with the batch left in place, when JS can no longer take it.
using Dispatcher = std::function<bool(std::unique_ptr<DynamicBatch>& batch)>;

}  // namespace kserver
