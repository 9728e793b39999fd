#include "connection.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <strings.h>

#include <algorithm>
#include <cstring>

#include "response.h"
#include "ukevent.h"

namespace kserver {
using kevent::UniqueFd;

namespace {
constexpr int kReadsPerEvent = 4;            // then let other connections have a turn
constexpr size_t kSendfileChunk = 1 << 20;   // per call, so one big file cannot hog the thread
constexpr int kMaxIov = 32;

void SetCork(int fd, bool on) {
  int v = on ? 1 : 0;
  // Failure only costs an extra packet; nothing to undo.
  setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v);
}
}  // namespace

Connection::Connection(UniqueFd fd, uint64_t id, const IoContext& ctx)
    : fd_(std::move(fd)), id_(id), deadline_(ctx.now + ctx.options.header_timeout_ms), last_progress_(ctx.now) {}

uint32_t Connection::WantedEvents() const {
  if (phase_ == Phase::kLinger) return kevent::KEVENT_SOCKET_RECV;
  uint32_t want = 0;
  if (!close_after_flush_ && !Backlogged() && !peer_closed_) want |= kevent::KEVENT_SOCKET_RECV;
  if (Sendable()) want |= kevent::KEVENT_SOCKET_SEND;
  return want;
}

bool Connection::OnReadable(IoContext& ctx) {
  for (int i = 0; i < kReadsPerEvent; ++i) {
    const ssize_t n = recv(fd_.get(), ctx.scratch, IoContext::kScratchBytes, 0);
    if (n > 0) {
      // A lingering close only waits for the peer's FIN; what it sends is dropped.
      if (phase_ != Phase::kLinger) in_.append(ctx.scratch, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < IoContext::kScratchBytes) break;
      continue;
    }
    if (n == 0) {
      if (phase_ == Phase::kLinger) return false;
      peer_closed_ = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) break;
    return false;  // ECONNRESET and the like
  }
  if (phase_ == Phase::kLinger) return true;
  return Process(ctx);
}

bool Connection::OnWritable(IoContext& ctx) {
  if (!Flush(ctx)) return false;
  return Process(ctx);
}

bool Connection::OnTick(IoContext& ctx) {
  if (Sendable() && ctx.now - last_progress_ >= ctx.options.send_timeout_ms) return false;
  if (ctx.now < deadline_ && !(ctx.draining && phase_ == Phase::kIdle)) return true;
  switch (phase_) {
    case Phase::kLinger: return false;
    case Phase::kIdle:
      // Nothing owed and nothing started: an idle keep-alive (or draining) connection just closes.
      if (OutEmpty() && !close_after_flush_) return false;
      return true;
    case Phase::kHead:
    case Phase::kBody:
      if (close_after_flush_) return true;
      Fail(408, ctx);  // slowloris: too slow to send the head, or the body stalled
      return Flush(ctx) && Finish(ctx);
  }
  return true;
}

void Connection::CompactInput() {
  if (in_off_ == in_.size()) {
    // All consumed: an idle keep-alive connection keeps no input buffer.
    std::string().swap(in_);
    in_off_ = 0;
  } else if (in_off_ > 16 * 1024 || in_off_ * 2 > in_.size()) {
    in_.erase(0, in_off_);
    in_off_ = 0;
  }
}

bool Connection::ParseAndAnswer(IoContext& ctx) {
  const HeadLimits limits{ctx.options.max_request_line, ctx.options.max_header_size, ctx.options.max_headers};
  while (!close_after_flush_ && !Backlogged()) {
    const char* data = in_.data() + in_off_;
    const size_t avail = in_.size() - in_off_;
    if (phase_ == Phase::kIdle) {
      // RFC 9112 2.2: empty lines before a request line are ignored.
      size_t skip = 0;
      while (skip + 1 < avail && data[skip] == '\r' && data[skip + 1] == '\n') skip += 2;
      in_off_ += skip;
      if (skip == avail || (avail - skip == 1 && data[skip] == '\r')) break;
      phase_ = Phase::kHead;
      if (requests_ > 0) deadline_ = ctx.now + ctx.options.header_timeout_ms;
      continue;
    }
    if (phase_ == Phase::kHead) {
      size_t consumed = 0;
      int status = 0;
      if (!req_) req_ = std::make_unique<Request>();
      const HeadResult r = ParseHead(data, avail, limits, req_.get(), &consumed, &status);
      if (r == HeadResult::kNeedMore) break;
      if (r == HeadResult::kError) {
        Fail(status, ctx);
        break;
      }
      in_off_ += consumed;
      ++requests_;
      if (req_->body == Request::Body::kNone) {
        Dispatch(ctx);
        continue;
      }
      if (req_->body == Request::Body::kLength && req_->content_length > ctx.options.max_body_size) {
        Fail(413, ctx);
        break;
      }
      body_left_ = req_->content_length;
      if (req_->body == Request::Body::kChunked)
        chunked_ = std::make_unique<ChunkedDecoder>(ctx.options.max_body_size, ctx.options.max_chunk_extension,
                                                  ctx.options.max_header_size);
      // The client waits for this before sending the body; one already on its way needs none.
      if (req_->expect_continue && in_off_ == in_.size()) Enqueue("HTTP/1.1 100 Continue\r\n\r\n");
      phase_ = Phase::kBody;
      deadline_ = ctx.now + ctx.options.body_timeout_ms;
      continue;
    }
    // Phase::kBody: framed and counted; kept only when the JS handler may want it.
    if (avail == 0) break;
    deadline_ = ctx.now + ctx.options.body_timeout_ms;
    if (chunked_) {
      size_t consumed = 0;
      const auto r = chunked_->Feed(data, avail, &consumed, ctx.options.handler ? &req_->content : nullptr);
      if (r == ChunkedDecoder::Result::kError) {
        Fail(chunked_->status(), ctx);
        break;
      }
      in_off_ += consumed;
      if (r == ChunkedDecoder::Result::kNeedMore) break;
      chunked_.reset();
    } else {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(body_left_, avail));
      if (ctx.options.handler) req_->content.append(data, take);
      in_off_ += take;
      body_left_ -= take;
      if (body_left_ > 0) break;
    }
    Dispatch(ctx);
  }
  return Backlogged() && !close_after_flush_;
}

bool Connection::Process(IoContext& ctx) {
  for (;;) {
    const bool stopped_by_backlog = ParseAndAnswer(ctx);
    CompactInput();
    if (!Flush(ctx)) return false;
    if (close_after_flush_) return Finish(ctx);
    // Sending freed room: answer the pipelined requests already buffered.
    if (!stopped_by_backlog || Backlogged()) break;
  }
  // The peer finished sending: once every complete request is answered, we are done.
  if (peer_closed_ && OutEmpty()) return false;
  return true;
}

void Connection::Dispatch(IoContext& ctx) {
  const uint32_t max = ctx.options.max_requests_per_connection;
  const bool keep = req_->keep_alive && !ctx.draining && (max == 0 || requests_ < max);
  Reply reply;
  if (ctx.files.Handle(*req_, ReplyContext{ctx.date, keep, ctx.cache}, &reply)) EnqueueReply(std::move(reply));
  else HandToJs(keep, ctx);
  req_.reset();
  phase_ = Phase::kIdle;
  deadline_ = ctx.now + ctx.options.idle_timeout_ms;
  if (!keep) close_after_flush_ = true;
}

void Connection::HandToJs(bool keep, IoContext& ctx) {
  Segment hold;
  hold.pending = true;
  hold.seq = next_seq_++;
  hold.keep_alive = keep;
  hold.http10 = req_->http_minor == 0;
  hold.head_only = req_->head_only();
  ctx.outbox->push_back(DynamicRequest{id_, hold.seq, std::move(req_->method), std::move(req_->target),
                                       std::move(req_->headers), std::move(req_->content), req_->http_minor});
  out_.push_back(std::move(hold));
  ++awaiting_js_;
}

namespace {
bool SafeHeader(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c == ':' || c == 0x7f) return false;
  for (unsigned char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;  // no response splitting
  return true;
}

bool EngineOwned(const std::string& name) {
  static const char* const kOwned[] = {"content-length", "transfer-encoding", "connection", "date", "server"};
  for (const char* owned : kOwned)
    if (name.size() == std::strlen(owned) && strncasecmp(name.c_str(), owned, name.size()) == 0) return true;
  return false;
}
}  // namespace

bool Connection::Complete(DynamicResponse& response, IoContext& ctx) {
  auto it = std::find_if(out_.begin() + static_cast<ptrdiff_t>(out_head_), out_.end(),
                         [&](const Segment& s) { return s.pending && s.seq == response.seq; });
  if (it == out_.end()) return true;  // answered already
  int status = response.status;
  bool valid = status >= 200 && status <= 999;
  for (const auto& [name, value] : response.headers) valid = valid && SafeHeader(name, value);
  if (!valid) {
    status = 500;
    response.headers.clear();
    response.body.clear();
  }
  ResponseHead head(status, ctx.date);
  for (const auto& [name, value] : response.headers)
    if (!EngineOwned(name)) head.Add(name, value);
  const bool bodyless = status == 204 || status == 304;
  if (!bodyless) head.AddLength(response.body.size());
  it->data = head.Finish(it->keep_alive, it->http10);
  if (!bodyless && !it->head_only) it->data += response.body;
  it->pending = false;
  out_bytes_ += it->data.size();
  --awaiting_js_;
  return Process(ctx);
}

void Connection::Fail(int status, IoContext& ctx) {
  // The head could not be trusted, so neither can anything after it on this connection.
  Enqueue(SimpleResponse(status, ctx.date, false, false, false));
  close_after_flush_ = true;
  must_linger_ = true;
}

void Connection::Enqueue(std::string bytes) {
  if (bytes.empty()) return;  // an empty iovec would make no progress
  out_bytes_ += bytes.size();
  Segment s;
  s.data = std::move(bytes);
  out_.push_back(std::move(s));
}

void Connection::EnqueueShared(std::shared_ptr<const std::string> owner, std::string_view bytes) {
  if (bytes.empty()) return;
  out_bytes_ += bytes.size();
  Segment s;
  s.shared = std::move(owner);
  s.view = bytes;
  out_.push_back(std::move(s));
}

void Connection::EnqueueReply(Reply reply) {
  if (!reply.file.valid()) {
    // Head and body leave in one sendmsg, the body straight from the cache.
    Enqueue(std::move(reply.memory));
    return EnqueueShared(std::move(reply.body_owner), reply.body);
  }
  // Head and the file's first bytes leave in one packet.
  if (!corked_) {
    SetCork(fd_.get(), true);
    corked_ = true;
  }
  Enqueue(std::move(reply.memory));
  Segment s;
  s.file = std::move(reply.file);
  s.offset = reply.offset;
  s.remaining = reply.length;
  s.uncork = true;
  out_.push_back(std::move(s));
  has_file_ = true;
}

bool Connection::Flush(IoContext& ctx) {
  while (Sendable()) {
    Segment& front = out_[out_head_];
    if (front.file.valid()) {
      off_t off = static_cast<off_t>(front.offset);
      const ssize_t n = sendfile(fd_.get(), front.file.get(), &off, std::min<uint64_t>(front.remaining, kSendfileChunk));
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return true;
        return false;
      }
      if (n == 0) return false;  // the file shrank: the promised length cannot be sent
      last_progress_ = ctx.now;
      front.offset += static_cast<uint64_t>(n);
      front.remaining -= static_cast<uint64_t>(n);
      if (front.remaining > 0) continue;
      if (front.uncork && corked_) {
        SetCork(fd_.get(), false);
        corked_ = false;
      }
      PopFront();
      has_file_ = std::any_of(out_.begin() + static_cast<ptrdiff_t>(out_head_), out_.end(),
                              [](const Segment& s) { return s.file.valid(); });
      continue;
    }
    // Gather consecutive memory segments into one sendmsg.
    iovec iov[kMaxIov];
    int count = 0;
    for (auto it = out_.begin() + static_cast<ptrdiff_t>(out_head_); it != out_.end() && count < kMaxIov && !it->file.valid() && !it->pending;
         ++it, ++count) {
      const std::string_view bytes = it->bytes();
      iov[count].iov_base = const_cast<char*>(bytes.data() + it->sent);
      iov[count].iov_len = bytes.size() - it->sent;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    const ssize_t n = sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return true;
      return false;
    }
    last_progress_ = ctx.now;
    size_t left = static_cast<size_t>(n);
    out_bytes_ -= left;
    while (left > 0) {
      Segment& s = out_[out_head_];
      const size_t size = s.bytes().size();
      const size_t take = std::min(left, size - s.sent);
      s.sent += take;
      left -= take;
      if (s.sent == size) PopFront();
    }
  }
  return true;
}

void Connection::PopFront() {
  out_[out_head_] = Segment();  // closes a finished file now
  if (++out_head_ < out_.size()) return;
  std::vector<Segment>().swap(out_);
  out_head_ = 0;
}

bool Connection::Finish(IoContext& ctx) {
  if (!OutEmpty()) return true;  // still sending; called again when the queue drains
  if (!must_linger_ && in_off_ == in_.size()) return false;
  if (phase_ == Phase::kLinger) return true;
  shutdown(fd_.get(), SHUT_WR);
  phase_ = Phase::kLinger;
  deadline_ = ctx.now + ctx.options.linger_ms;
  return true;
}

}  // namespace kserver
