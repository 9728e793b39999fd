#include "dynamic.h"

#include <algorithm>
#include <cstring>

#include "http_parser.h"
#include "peer.h"

namespace kserver {

void HookOutbox::Request(uint64_t conn, uint64_t rid, const kserver::Request& req, const PeerAddress& peer,
                         std::string_view body, bool body_follows) {
  std::vector<double>& m = batch_.meta;
  std::string& d = batch_.data;
  int flags = req.http_minor == 0 ? kHookHttp10 : 0;
  if (peer.family[0] == 'I' && peer.family[3] == '6') flags |= kHookIpv6;
  if (body_follows) flags |= kHookBodyFollows;
  const size_t n = 4 + 2 * req.headers.size();
  // Sized once, then filled: no capacity check or append call per string.
  size_t bytes = req.method.size() + req.target.size() + peer.address.size() + body.size();
  for (const auto& [name, value] : req.headers) bytes += name.size() + value.size();
  size_t at = m.size(), end = d.size();
  m.resize(at + 7 + n);
  d.resize(end + bytes);
  for (double v : {double(kHookRequest), double(conn), double(rid), double(flags), double(peer.port), double(end), double(n)})
    m[at++] = v;
  auto put = [&](std::string_view s) {
    if (!s.empty()) std::memcpy(&d[end], s.data(), s.size());
    end += s.size();
    m[at++] = double(end);
  };
  put(req.method);
  put(req.target);
  put(peer.address);
  for (const auto& [name, value] : req.headers) {
    put(name);
    put(value);
  }
  put(body);
  batch_.requests.emplace_back(conn, rid);
}

void HookOutbox::Body(uint64_t conn, uint64_t rid, std::string_view bytes) {
  std::vector<double>& m = batch_.meta;
  // Pieces that arrive back to back in one turn travel as one.
  const size_t tail = m.size() >= 5 ? m.size() - 5 : 0;
  if (m.size() >= 5 && m[tail] == kHookBody && m[tail + 1] == double(conn) && m[tail + 2] == double(rid) &&
      m[tail + 4] == double(batch_.data.size())) {
    batch_.data.append(bytes.data(), bytes.size());
    m[tail + 4] = double(batch_.data.size());
    return;
  }
  m.insert(m.end(), {double(kHookBody), double(conn), double(rid), double(batch_.data.size())});
  batch_.data.append(bytes.data(), bytes.size());
  m.push_back(double(batch_.data.size()));
}

void HookOutbox::Mark(HookEvent kind, uint64_t conn, uint64_t rid) {
  batch_.meta.insert(batch_.meta.end(), {double(kind), double(conn), double(rid)});
}

void HookOutbox::Ack(uint64_t conn, uint64_t rid, uint64_t bytes) {
  batch_.meta.insert(batch_.meta.end(), {double(kHookAck), double(conn), double(rid), double(bytes)});
}

std::unique_ptr<DynamicBatch> HookOutbox::Take(int thread) {
  auto out = std::make_unique<DynamicBatch>(std::move(batch_));
  out->thread = thread;
  batch_ = DynamicBatch();
  // The next batch is likely the size of this one: one allocation each, not a doubling chain.
  // Capped, so one burst of large bodies does not stay reserved on an idle thread.
  constexpr size_t kMaxMeta = 16384, kMaxData = 256 * 1024, kMaxRequests = 1024;
  batch_.meta.reserve(std::min(out->meta.size(), kMaxMeta));
  batch_.data.reserve(std::min(out->data.size(), kMaxData));
  batch_.requests.reserve(std::min(out->requests.size(), kMaxRequests));
  return out;
}

}  // namespace kserver
