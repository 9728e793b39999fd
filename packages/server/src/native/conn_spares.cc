#include "connection.h"

namespace kserver {

std::unique_ptr<Request> ConnSpares::TakeRequest() {
  if (requests.empty()) return std::make_unique<Request>();
  std::unique_ptr<Request> req = std::move(requests.back());
  requests.pop_back();
  return req;
}

void ConnSpares::GiveRequest(std::unique_ptr<Request> req) {
  if (!req || requests.size() >= kMax) return;
  req->Clear();  // drops what an unusual request grew, so a spare stays small
  requests.push_back(std::move(req));
}

// Moves, not swaps: cheaper for strings, and these are on every request's path.
void ConnSpares::TakeString(std::string* s) {
  // Only an empty string: a short one holds bytes (a partial request) in its inline buffer.
  if (!s->empty() || s->capacity() > 15 || strings.empty()) return;  // 15: the inline capacity
  *s = std::move(strings.back());
  strings.pop_back();
}

void ConnSpares::GiveString(std::string* s) {
  if (s->capacity() > 15 && s->capacity() <= kMaxString && strings.size() < kMax) {
    s->clear();
    strings.push_back(std::move(*s));
    s->clear();  // moved from: empty already in practice, now by contract too
    return;
  }
  std::string().swap(*s);
}

void ConnSpares::TakeOut(std::vector<Connection::Segment>* out) {
  if (out->capacity() > 0 || outs.empty()) return;
  out->swap(outs.back());
  outs.pop_back();
}

void ConnSpares::GiveOut(std::vector<Connection::Segment>* out) {
  if (out->capacity() <= kMaxSegments && outs.size() < kMax) {
    out->clear();
    outs.push_back(std::move(*out));
  }
  std::vector<Connection::Segment>().swap(*out);
}

}  // namespace kserver
