#include "access_log.h"

#include <time.h>

#include <algorithm>

#include "peer.h"

namespace kserver {

namespace {
int64_t RealtimeMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// "HTTP/1.1 404 ..." -> 404; our own heads always have this shape.
int StatusOf(std::string_view head) {
  if (head.size() < 12) return 0;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') return 0;
    status = status * 10 + (head[i] - '0');
  }
  return status;
}

std::string HeaderOr(const Request* req, std::string_view name) {
  const std::string* v = req ? req->Header(name) : nullptr;
  return v ? *v : std::string();
}
}  // namespace

namespace {
void AppendJsonString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  *out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += c;
    } else if (u < 0x20 || u == 0x7f) {
      *out += "\\u00";
      *out += kHex[u >> 4];
      *out += kHex[u & 15];
    } else {
      *out += c;  // bytes >= 0x80 pass through; invalid UTF-8 becomes U+FFFD when JS reads the string
    }
  }
  *out += '"';
}
}  // namespace

std::string AccessBatchJson(const AccessBatch& batch) {
  std::string out;
  out.reserve(batch.records.size() * 200);
  const std::string thread = std::to_string(batch.thread);
  auto text = [&out](const char* key, std::string_view value) {
    out += key;
    AppendJsonString(value, &out);
  };
  auto number = [&out](const char* key, std::string_view value) {
    out += key;
    out += value;
  };
  out += '[';
  for (const AccessRecord& r : batch.records) {
    if (out.size() > 1) out += ',';
    number("{\"time\":", std::to_string(r.time_ms));
    text(",\"remoteAddress\":", r.remote);
    text(",\"method\":", r.method);
    text(",\"url\":", r.url);
    text(",\"httpVersion\":", r.http_minor == 0 ? "1.0" : "1.1");
    number(",\"status\":", std::to_string(r.status));
    number(",\"bytes\":", std::to_string(r.bytes));
    text(",\"referer\":", r.referer);
    text(",\"userAgent\":", r.user_agent);
    number(",\"thread\":", thread);
    out += '}';
  }
  out += ']';
  return out;
}

void AccessLog::Open(uint64_t conn, int fd) {
  PeerAddress peer;
  if (GetPeerAddress(fd, &peer)) peers_.emplace(conn, std::move(peer.address));
}

void AccessLog::Forget(uint64_t conn) {
  peers_.erase(conn);
  held_.erase(held_.lower_bound({conn, 0}), held_.lower_bound({conn + 1, 0}));
}

AccessRecord AccessLog::Start(uint64_t conn, const Request* req) const {
  AccessRecord r;
  auto peer = peers_.find(conn);
  if (peer != peers_.end()) r.remote = peer->second;
  if (req) {
    r.method = req->method;
    r.url = req->target;
    r.http_minor = req->http_minor;
  }
  r.referer = HeaderOr(req, "referer");
  r.user_agent = HeaderOr(req, "user-agent");
  return r;
}

void AccessLog::Add(uint64_t conn, const Request* req, std::string_view head_and_body, uint64_t file_bytes) {
  AccessRecord r = Start(conn, req);
  r.status = StatusOf(head_and_body);
  const size_t end = head_and_body.find("\r\n\r\n");
  const size_t head = end == std::string_view::npos ? head_and_body.size() : end + 4;
  r.bytes = head_and_body.size() - head + file_bytes;
  Push(std::move(r));
}

void AccessLog::Hold(uint64_t conn, uint64_t seq, const Request& req) { held_[{conn, seq}] = Start(conn, &req); }

void AccessLog::Answered(uint64_t conn, uint64_t seq, int status, uint64_t body_bytes) {
  auto it = held_.find({conn, seq});
  if (it == held_.end()) return;
  AccessRecord r = std::move(it->second);
  held_.erase(it);
  r.status = status;
  r.bytes = body_bytes;
  Push(std::move(r));
}

void AccessLog::Gone(uint64_t conn, const Request& req) {
  AccessRecord r = Start(conn, &req);
  r.status = kClientGone;
  Push(std::move(r));
}

void AccessLog::Push(AccessRecord record) {
  record.time_ms = RealtimeMs();
  pending_.push_back(std::move(record));
  if (pending_.size() >= kBatchRecords) Flush();
}

void AccessLog::Flush() {
  if (pending_.empty()) return;
  // Take what the budget has room for; the rest is dropped, counted, and never waited for.
  size_t room = 0;
  size_t in_flight = budget_->in_flight.load(std::memory_order_relaxed);
  do {
    room = std::min(pending_.size(), budget_->limit > in_flight ? budget_->limit - in_flight : 0);
  } while (room > 0 && !budget_->in_flight.compare_exchange_weak(in_flight, in_flight + room, std::memory_order_relaxed));
  if (room < pending_.size()) {
    dropped_.fetch_add(pending_.size() - room, std::memory_order_relaxed);
    pending_.resize(room);
  }
  if (room == 0) return;
  auto batch = std::make_unique<AccessBatch>();
  batch->thread = thread_;
  batch->records.swap(pending_);
  batch->budget = budget_;
  pending_.reserve(std::min<size_t>(room, kBatchRecords));
  if (sink_ && *sink_ && (*sink_)(batch)) return;
  // JS is gone (the engine is stopping): these records have nowhere to go.
  budget_->in_flight.fetch_sub(room, std::memory_order_relaxed);
  dropped_.fetch_add(room, std::memory_order_relaxed);
}

}  // namespace kserver
