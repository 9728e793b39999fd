#include "connection.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <strings.h>

#include <algorithm>
#include <cstring>

#include "response.h"
#include "tcp_progress.h"
#include "ukevent.h"

namespace kserver {
using kevent::UniqueFd;

namespace {
constexpr int kReadsPerEvent = 4;            // then let other connections have a turn
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
  if (aio_job_ != 0) {
    // The pool sends and the I/O thread cannot see it: what the peer acknowledged is progress.
    Segment& file = out_[out_head_];
    uint64_t acked = 0;
    if (TcpBytesAcked(fd_.get(), &acked) && acked != file.acked) {
      file.acked = acked;
      last_progress_ = ctx.now;
    }
  }
  // Closing also cancels a file job.
  if ((Sendable() || aio_job_ != 0) && ctx.now - last_progress_ >= ctx.options.send_timeout_ms) return false;
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
  if (ctx.files.Handle(*req_, ReplyContext{ctx.date, keep}, &reply)) {
    const size_t first = out_.size();
    EnqueueReply(std::move(reply));
    if (ctx.access_log && first < out_.size()) {
      // Counted from what was queued, so any shape of reply (file ranges, parts) adds up.
      uint64_t after = 0;
      for (size_t i = first + 1; i < out_.size(); ++i) after += out_[i].data.size() + out_[i].remaining;
      ctx.access_log->Add(id_, req_.get(), out_[first].data, after);
    }
  } else {
    HandToJs(keep, ctx);
  }
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
  if (ctx.access_log) ctx.access_log->Hold(id_, hold.seq, *req_);
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
  if (ctx.access_log) ctx.access_log->Answered(id_, response.seq, status, bodyless || it->head_only ? 0 : response.body.size());
  it->pending = false;
  out_bytes_ += it->data.size();
  --awaiting_js_;
  return Process(ctx);
}

void Connection::Fail(int status, IoContext& ctx) {
  // The head could not be trusted, so neither can anything after it on this connection.
  std::string bytes = SimpleResponse(status, ctx.date, false, false, false);
  if (ctx.access_log) ctx.access_log->Add(id_, req_.get(), bytes, 0);
  Enqueue(std::move(bytes));
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

void Connection::EnqueueReply(Reply reply) {
  if (!reply.file.valid()) return Enqueue(std::move(reply.memory));
  // Head and the file's first bytes leave in one packet.
  if (!corked_) {
    SetCork(fd_.get(), true);
    corked_ = true;
  }
  Enqueue(std::move(reply.memory));
  size_t last_file = EnqueueFile(std::move(reply.file), reply.offset, reply.length);
  for (Reply::Piece& piece : reply.more) {  // a multipart body: part heads between file ranges
    Enqueue(std::move(piece.memory));
    if (piece.file.valid()) last_file = EnqueueFile(std::move(piece.file), piece.offset, piece.length);
  }
  // Uncorking after the last file range pushes it out; a memory tail (the closing boundary)
  // then leaves at once.
  out_[last_file].uncork = true;
  has_file_ = true;
}

size_t Connection::EnqueueFile(kevent::UniqueFd file, uint64_t offset, uint64_t length) {
  Segment s;
  s.file = std::move(file);
  s.offset = offset;
  s.remaining = length;
  out_.push_back(std::move(s));
  return out_.size() - 1;
}

bool Connection::Flush(IoContext& ctx) {
  while (Sendable()) {
    Segment& front = out_[out_head_];
    if (front.file.valid()) return StartFileJob(front, ctx);
    // Gather consecutive memory segments into one sendmsg.
    iovec iov[kMaxIov];
    int count = 0;
    for (auto it = out_.begin() + static_cast<ptrdiff_t>(out_head_); it != out_.end() && count < kMaxIov && !it->file.valid() && !it->pending;
         ++it, ++count) {
      iov[count].iov_base = const_cast<char*>(it->data.data() + it->sent);
      iov[count].iov_len = it->data.size() - it->sent;
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
      const size_t take = std::min(left, s.data.size() - s.sent);
      s.sent += take;
      left -= take;
      if (s.sent == s.data.size()) PopFront();
    }
  }
  return true;
}

// The whole body goes to the pool in one job: sendfile there may wait on the disk, here it
// must not. The socket stays out of this thread's queue until the completion, so nothing
// else is written meanwhile; pipelined requests wait (Backlogged) and keep their order.
bool Connection::StartFileJob(Segment& file, IoContext& ctx) {
  kevent::AioRequest job;
  job.queue = ctx.queue;
  job.sock_fd = fd_.get();
  job.in_fd = file.file.get();  // the pool takes its own duplicate: a cached fd may close meanwhile
  job.offset = file.offset;
  job.count = file.remaining;
  uint64_t cookie = 0;
  if (!ctx.aio->Submit(std::move(job), &cookie).ok()) return false;  // the queue closed: shutting down
  aio_job_ = cookie;
  (*ctx.aio_jobs)[cookie] = id_;
  TcpBytesAcked(fd_.get(), &file.acked);
  last_progress_ = ctx.now;
  return true;
}

bool Connection::OnFileSent(const kevent::Ukevent& done, IoContext& ctx) {
  if (done.user != aio_job_ || aio_job_ == 0) return true;  // a job this connection no longer waits for
  aio_job_ = 0;
  // Broken (the peer went away) or short (the file shrank): the promised length cannot be sent.
  if ((done.ret_flags & kevent::KEVENT_RET_BROKEN) || done.ret_data != out_[out_head_].remaining) return false;
  last_progress_ = ctx.now;
  // A keep-alive client's idle wait starts once the body is out, however long it took.
  if (phase_ == Phase::kIdle) deadline_ = ctx.now + ctx.options.idle_timeout_ms;
  if (out_[out_head_].uncork && corked_) {
    SetCork(fd_.get(), false);
    corked_ = false;
  }
  PopFront();
  has_file_ = std::any_of(out_.begin() + static_cast<ptrdiff_t>(out_head_), out_.end(),
                          [](const Segment& s) { return s.file.valid(); });
  return Process(ctx);
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
