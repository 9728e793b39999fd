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

void ConnSpares::TakeInput(std::string* in) {
  if (in->capacity() > 15 || inputs.empty()) return;  // 15: std::string's inline capacity
  in->swap(inputs.back());
  inputs.pop_back();
}

void ConnSpares::GiveInput(std::string* in) {
  if (in->capacity() <= kMaxInput && inputs.size() < kMax) {
    in->clear();
    inputs.push_back(std::move(*in));
  }
  std::string().swap(*in);
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
