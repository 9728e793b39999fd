// The access log's native half: one record per finished response, collected per I/O thread
// and handed to JS in batches (one thread-safe call per loop turn or per kBatchRecords), never
// per request. What JS has not taken yet is bounded: past the limit records are dropped and
// counted, so a stalled JS thread costs neither memory without end nor a blocked I/O thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http_parser.h"

namespace kserver {

struct AccessRecord {
  int64_t time_ms = 0;  // since the epoch, when the response was queued
  std::string remote;
  std::string method;
  std::string url;
  std::string referer;
  std::string user_agent;
  int http_minor = 1;
  int status = 0;
  uint64_t bytes = 0;  // body bytes queued (none for HEAD, 304, ...)
};

// Records handed to JS and not yet delivered; shared by every thread of an engine and by
// the batches themselves, which may outlive the engine in the thread-safe function's queue.
struct AccessBudget {
  explicit AccessBudget(size_t limit) : limit(limit) {}
  const size_t limit;
  std::atomic<size_t> in_flight{0};
};

struct AccessBatch {
  int thread = 0;
  std::vector<AccessRecord> records;
  std::shared_ptr<AccessBudget> budget;  // given back when JS has the records
};

// The batch as a JSON array of AccessLogEntry objects (ts/options.ts): one string crosses to
// JS and JSON.parse builds the objects, far cheaper than one N-API call per field.
std::string AccessBatchJson(const AccessBatch& batch);

// Delivers a batch to JS, taking it (leaving null) on success; false when JS cannot take it.
using AccessSink = std::function<bool(std::unique_ptr<AccessBatch>& batch)>;

// One per I/O thread; only that thread calls it, except dropped().
class AccessLog {
 public:
  AccessLog(int thread, const AccessSink* sink, std::shared_ptr<AccessBudget> budget)
      : thread_(thread), sink_(sink), budget_(std::move(budget)) {}

  // A new connection: its peer address is looked up once, here.
  void Open(uint64_t conn, int fd);
  void Forget(uint64_t conn);
  // A response queued from memory (`head_and_body`: head, then body bytes) plus `file_bytes`
  // of a file. `req` may be null or partial for a request that failed before its head ended.
  void Add(uint64_t conn, const Request* req, std::string_view head_and_body, uint64_t file_bytes);
  // A request handed to the JS hook: its fields are kept until the answer comes.
  void Hold(uint64_t conn, uint64_t seq, const Request& req);
  void Answered(uint64_t conn, uint64_t seq, int status, uint64_t body_bytes);
  // A request (a listing being built or queued) whose connection closed before its answer.
  void Gone(uint64_t conn, const Request& req);
  // nginx's status for a request whose client went away before it was answered.
  static constexpr int kClientGone = 499;
  // Sends what was collected; called once per loop turn.
  void Flush();
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  static constexpr size_t kBatchRecords = 1024;

 private:
  AccessRecord Start(uint64_t conn, const Request* req) const;
  void Push(AccessRecord record);

  const int thread_;
  const AccessSink* sink_;
  std::shared_ptr<AccessBudget> budget_;
  std::unordered_map<uint64_t, std::string> peers_;
  std::map<std::pair<uint64_t, uint64_t>, AccessRecord> held_;  // (conn, seq) awaiting JS
  std::vector<AccessRecord> pending_;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace kserver
