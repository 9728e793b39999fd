#include "connection.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <strings.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "file_cache.h"
#include "response.h"
#include "tcp_progress.h"
#include "text.h"
#include "ukevent.h"

namespace kserver {
using kevent::UniqueFd;

namespace {
constexpr int kReadsPerEvent = 4;            // then let other connections have a turn
constexpr int kMaxIov = 32;

// After recv() returned 0: the connection is gone entirely (reset), not just half-closed.
bool PeerReset(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return errno != ENOPROTOOPT;
  return info.tcpi_state == TCP_CLOSE;
}

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
  // While JS works, the socket stays watched (with a little input buffered at most), so a
  // client that resets is noticed and JS told, and no re-registration per request.
  const bool watch = awaiting_js_ > 0 && in_.size() - in_off_ < kBacklogBytes;
  if (!close_after_flush_ && (WantsInput() || watch) && !peer_closed_) want |= kevent::KEVENT_SOCKET_RECV;
  if (Sendable()) want |= kevent::KEVENT_SOCKET_SEND;
  return want;
}

bool Connection::OnReadable(IoContext& ctx) {
  for (int i = 0; i < kReadsPerEvent; ++i) {
    const ssize_t n = recv(fd_.get(), ctx.scratch, IoContext::kScratchBytes, 0);
    if (n > 0) {
      // A lingering close only waits for the peer's FIN; what it sends is dropped.
      if (phase_ != Phase::kLinger) {
        ctx.spares->TakeString(&in_);
        in_.append(ctx.scratch, static_cast<size_t>(n));
      }
      if (static_cast<size_t>(n) < IoContext::kScratchBytes) break;
      continue;
    }
    if (n == 0) {
      if (phase_ == Phase::kLinger) return false;
      // A FIN may be a client waiting half-closed for its answer; a reset is a client gone.
      if (PeerReset(fd_.get())) return false;
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
  // A listing being built sends nothing yet: no send timeout runs while a worker reads the
  // directory (it may wait behind other jobs); it starts when the reply is queued.
  const bool sending_file = aio_job_ != 0 && !out_[out_head_].listing;
  if (sending_file) {
    // The pool sends and the I/O thread cannot see it: what the peer acknowledged is progress.
    Segment& file = out_[out_head_];
    uint64_t acked = 0;
    if (TcpBytesAcked(fd_.get(), &acked) && acked != file.acked) {
      file.acked = acked;
      last_progress_ = ctx.now;
    }
  }
  // Closing also cancels a file job.
  if ((Sendable() || sending_file) && ctx.now - last_progress_ >= ctx.options.send_timeout_ms) return false;
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
      if (phase_ == Phase::kBody && BodyWindowFull()) {
        deadline_ = ctx.now + ctx.options.body_timeout_ms;  // JS is slow to read, not the client to send
        return true;
      }
      Fail(408, ctx);  // slowloris: too slow to send the head, or the body stalled
      return Flush(ctx) && Finish(ctx);
  }
  return true;
}

void Connection::CompactInput(IoContext& ctx) {
  if (in_off_ == in_.size()) {
    // All consumed: an idle keep-alive connection keeps no input buffer.
    ctx.spares->GiveString(&in_);
    in_off_ = 0;
  } else if (in_off_ > 16 * 1024 || in_off_ * 2 > in_.size()) {
    in_.erase(0, in_off_);
    in_off_ = 0;
  }
}

bool Connection::ParseAndAnswer(IoContext& ctx) {
  const HeadLimits limits{ctx.options.max_request_line, ctx.options.max_header_size, ctx.options.max_headers};
  while (!close_after_flush_ && WantsInput()) {
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
      if (!req_) req_ = ctx.spares->TakeRequest();
      const HeadResult r = ParseHead(data, avail, limits, req_.get(), &consumed, &status);
      if (r == HeadResult::kNeedMore) break;
      if (r == HeadResult::kError) {
        Fail(status, ctx);
        break;
      }
      in_off_ += consumed;
      ++requests_;
      ctx.spares->TakeOut(&out_);  // for the answer; not earlier, or a half-sent head would hold it
      const uint32_t max = ctx.options.max_requests_per_connection;
      keep_ = req_->keep_alive && !ctx.draining && (max == 0 || requests_ < max);
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
      body_mode_ = BodyMode::kDiscard;
      if (ctx.options.handler) {
        // Static files answer from the head alone; their answer waits for the body to pass.
        Reply reply;
        if (ctx.files.Handle(*req_, ReplyContext{ctx.date, keep_}, &reply))
          held_reply_ = std::make_unique<Reply>(std::move(reply));
        else
          body_mode_ = BodyMode::kBuffer;
      }
      // The client waits for this before sending the body; one already on its way needs none.
      if (req_->expect_continue && in_off_ == in_.size()) Enqueue("HTTP/1.1 100 Continue\r\n\r\n");
      phase_ = Phase::kBody;
      deadline_ = ctx.now + ctx.options.body_timeout_ms;
      continue;
    }
    // Phase::kBody: framed and counted; kept only when the JS handler takes the request.
    if (avail == 0) break;
    deadline_ = ctx.now + ctx.options.body_timeout_ms;
    std::string piece;
    std::string* sink = body_mode_ == BodyMode::kBuffer ? &req_->content
                        : body_mode_ == BodyMode::kStream ? &piece
                                                          : nullptr;
    bool done;
    if (chunked_) {
      size_t consumed = 0;
      const auto r = chunked_->Feed(data, avail, &consumed, sink);
      if (r == ChunkedDecoder::Result::kError) {
        if (body_mode_ == BodyMode::kStream) FailStream(chunked_->status(), ctx);
        else Fail(chunked_->status(), ctx);
        break;
      }
      in_off_ += consumed;
      done = r == ChunkedDecoder::Result::kDone;
      if (done) chunked_.reset();
    } else {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(body_left_, avail));
      if (sink) sink->append(data, take);
      in_off_ += take;
      body_left_ -= take;
      done = body_left_ == 0;
    }
    if (body_mode_ == BodyMode::kStream) {
      if (!piece.empty()) {
        ctx.outbox->Body(id_, hook_->stream_rid, piece);
        hook_->body_unread += piece.size();
      }
      if (!done) break;  // all the input there is went to JS
      ctx.outbox->Mark(kHookEnd, id_, hook_->stream_rid);
      hook_->stream_rid = 0;
      EndRequest(ctx);
      continue;
    }
    if (!done) {
      // The rest of the body is not here yet: JS gets the head now and the body as it comes.
      if (body_mode_ == BodyMode::kBuffer) {
        HandToJs(true, ctx);
        body_mode_ = BodyMode::kStream;
      }
      break;
    }
    Dispatch(ctx);
  }
  return Backlogged() && !close_after_flush_;
}

bool Connection::Process(IoContext& ctx) {
  for (;;) {
    const bool stopped_by_backlog = ParseAndAnswer(ctx);
    CompactInput(ctx);
    if (!Flush(ctx)) return false;
    if (close_after_flush_) return Finish(ctx);
    // Sending freed room: answer the pipelined requests already buffered.
    if (!stopped_by_backlog || Backlogged()) break;
  }
  // The peer finished sending: once every complete request is answered, we are done.
  if (peer_closed_ && OutEmpty()) return false;
  // It stopped in the middle of a body that JS is not holding back: that body never ends.
  if (peer_closed_ && phase_ == Phase::kBody && !(body_mode_ == BodyMode::kStream && BodyWindowFull())) return false;
  return true;
}

void Connection::Dispatch(IoContext& ctx) {
  if (held_reply_) {
    EnqueueLogged(*held_reply_, req_.get(), ctx);
    held_reply_.reset();
  } else if (body_mode_ == BodyMode::kBuffer) {
    HandToJs(false, ctx);  // static files declined it when its head came
  } else {
    Reply reply;
    ctx.spares->TakeString(&reply.memory);  // for the head
    if (ctx.files.Handle(*req_, ReplyContext{ctx.date, keep_, ctx.cache}, &reply)) EnqueueLogged(reply, req_.get(), ctx);
    else HandToJs(false, ctx);
  }
  EndRequest(ctx);
}

void Connection::EnqueueLogged(Reply& reply, const Request* req, IoContext& ctx) {
  const size_t first = out_.size();
  EnqueueReply(reply);
  // A listing is logged when its reply is queued.
  if (!ctx.access_log || first == out_.size() || out_[first].listing) return;
  // Counted from what was queued, so any shape of reply (file ranges, parts) adds up.
  // The first segment holds the head (and a memory body, or the head of a file it sends).
  uint64_t after = out_[first].remaining;
  for (size_t i = first + 1; i < out_.size(); ++i) after += out_[i].bytes().size() + out_[i].remaining;
  ctx.access_log->Add(id_, req, out_[first].data, after);
}

void Connection::EndRequest(IoContext& ctx) {
  ctx.spares->GiveRequest(std::move(req_));
  body_mode_ = BodyMode::kDiscard;
  phase_ = Phase::kIdle;
  deadline_ = ctx.now + ctx.options.idle_timeout_ms;
  if (!keep_) close_after_flush_ = true;
}

void Connection::HandToJs(bool body_follows, IoContext& ctx) {
  if (!hook_) {
    hook_ = std::make_unique<HookState>();
    GetPeerAddress(fd_.get(), &hook_->peer);  // a peer already gone reports no address
  }
  Segment& hold = out_.emplace_back();  // built in place: a Segment is large
  hold.pending = true;
  hold.seq = ctx.outbox->NextRid();
  hold.keep_alive = keep_;
  hold.http10 = req_->http_minor == 0;
  hold.head_only = req_->head_only();
  if (ctx.access_log) ctx.access_log->Hold(id_, hold.seq, *req_);
  ctx.outbox->Request(id_, hold.seq, *req_, hook_->peer, req_->content, body_follows);
  if (body_follows) {
    hook_->stream_rid = hold.seq;
    hook_->body_unread = req_->content.size();
    std::string().swap(req_->content);
  }
  ++awaiting_js_;
}

bool Connection::BodyWindowFull() const { return hook_ && hook_->body_unread >= kBodyWindow; }

bool Connection::WantsInput() const {
  if (phase_ == Phase::kBody && body_mode_ == BodyMode::kStream) return !BodyWindowFull();
  return !Backlogged();
}

void Connection::AbortBodyStream(IoContext& ctx) {
  if (!hook_ || !hook_->stream_rid) return;
  ctx.outbox->Mark(kHookAbort, id_, hook_->stream_rid);
  hook_->stream_rid = 0;
}

void Connection::FailStream(int status, IoContext& ctx) {
  Segment* seg = FindJs(hook_->stream_rid);
  AbortBodyStream(ctx);
  if (seg && seg->pending) {
    // JS has not answered: the client hears why its body was refused.
    seg->data = SimpleResponse(status, ctx.date, false, seg->http10, seg->head_only);
    if (ctx.access_log) {
      const size_t head_end = seg->data.find("\r\n\r\n") + 4;
      ctx.access_log->Answered(id_, seg->seq, status, seg->data.size() - head_end);
    }
    seg->pending = false;
    out_bytes_ += seg->data.size();
    --awaiting_js_;
  } else if (seg) {
    EndStream(*seg, true, ctx);
  }
  close_after_flush_ = true;
  must_linger_ = true;
}

void Connection::Abandon(HookOutbox* outbox, AccessLog* log) {
  // A listing being built for this connection: nobody will read it.
  if (!OutEmpty() && out_[out_head_].listing) out_[out_head_].listing->cancelled = true;
  bool body_told = false;
  for (size_t i = out_head_; i < out_.size(); ++i) {
    const Segment& s = out_[i];
    if (s.listing && log) log->Gone(id_, s.listing->req);
    if (!s.pending && !s.js_stream) continue;
    // A stream's head is out: its entry says what JS had streamed, as for one that ended.
    if (log) log->Answered(id_, s.seq, s.pending ? AccessLog::kClientGone : s.js_status, s.pending ? 0 : s.js_body_bytes);
    outbox->Mark(kHookAbort, id_, s.seq);
    body_told |= hook_ && s.seq == hook_->stream_rid;
  }
  if (hook_ && hook_->stream_rid && !body_told) outbox->Mark(kHookAbort, id_, hook_->stream_rid);
}

Connection::Segment* Connection::FindJs(uint64_t rid) {
  for (size_t i = out_head_; i < out_.size(); ++i)
    if (out_[i].seq == rid && (out_[i].pending || out_[i].js_stream)) return &out_[i];
  return nullptr;
}

namespace {
bool SafeHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c == ':' || c == 0x7f) return false;
  for (unsigned char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;  // no response splitting
  return true;
}

bool EngineOwned(std::string_view name) {
  static constexpr std::string_view kOwned[] = {"content-length", "transfer-encoding", "connection", "date", "server"};
  for (std::string_view owned : kOwned)
    if (name.size() == owned.size() && strncasecmp(name.data(), owned.data(), name.size()) == 0) return true;
  return false;
}

// The handler's header lines ("Name: value\r\n" each), checked; the engine's own dropped.
// `*kept` is `block` itself when nothing was dropped (the usual case: no copy), else `*copy`.
bool CheckedLines(std::string_view block, std::string* copy, std::string_view* kept) {
  bool copying = false;
  size_t pos = 0;
  while (pos < block.size()) {
    const size_t end = block.find("\r\n", pos);
    if (end == std::string_view::npos) return false;
    const std::string_view line = block.substr(pos, end - pos);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view name = line.substr(0, colon);
    if (!SafeHeader(name, TrimOws(line.substr(colon + 1)))) return false;
    if (EngineOwned(name)) {
      if (!copying) copy->assign(block.data(), pos);  // the lines before this one
      copying = true;
    } else if (copying) {
      copy->append(block.data() + pos, end + 2 - pos);
    }
    pos = end + 2;
  }
  *kept = copying ? std::string_view(*copy) : block;
  return true;
}
}  // namespace

void Connection::TakeHook(HookCommand& cmd, IoContext& ctx) {
  if (cmd.type == kCmdRead) {
    if (hook_ && cmd.rid == hook_->stream_rid)
      hook_->body_unread -= std::min<uint64_t>(hook_->body_unread, static_cast<uint64_t>(cmd.length));
    return;
  }
  Segment* seg = FindJs(cmd.rid);
  if (!seg) {
    // Answered, cut or abandoned already. Bytes still count as taken, so JS never stalls.
    if (cmd.type == kCmdData && !cmd.body.empty()) ctx.outbox->Ack(id_, cmd.rid, cmd.body.size());
    return;
  }
  switch (cmd.type) {
    case kCmdAnswer:
    case kCmdHead:
      if (seg->pending) Answer(*seg, cmd, ctx);
      break;
    case kCmdData:
      if (seg->js_stream) Append(*seg, cmd, ctx);
      break;
    case kCmdFinish:
      if (seg->js_stream) EndStream(*seg, false, ctx);
      break;
    case kCmdFail:
      if (seg->pending) {
        cmd.type = kCmdAnswer;
        cmd.status = 500;
        cmd.head = {};
        cmd.body = "500 Internal Server Error\n";
        Answer(*seg, cmd, ctx);
      } else {
        EndStream(*seg, true, ctx);
      }
      break;
    default: break;
  }
}

void Connection::Answer(Segment& seg, HookCommand& cmd, IoContext& ctx) {
  int status = cmd.status;
  std::string copy;
  std::string_view lines;
  const bool valid = status >= 200 && status <= 999 && CheckedLines(cmd.head, &copy, &lines);
  if (!valid) {
    status = 500;
    lines = {};
    cmd.body = {};
  }
  const bool stream = valid && cmd.type == kCmdHead;
  const bool bodyless = status == 204 || status == 304;
  std::string buffer;
  ctx.spares->TakeString(&buffer);
  ResponseHead head(status, ctx.date, std::move(buffer));
  if (!stream) {
    if (!bodyless) head.AddLength(cmd.body.size());
  } else if (!bodyless) {
    if (cmd.length >= 0) {
      head.AddLength(static_cast<uint64_t>(cmd.length));
      seg.length_left = cmd.length;
    } else if (seg.http10) {
      seg.keep_alive = false;  // close-delimited: the end of the body is the end of the connection
      seg.last = true;
    } else {
      head.Add("Transfer-Encoding", "chunked");
      seg.chunked = true;
    }
  }
  seg.data = head.Finish(seg.keep_alive, seg.http10, lines);
  seg.pending = false;
  if (stream) {
    seg.js_stream = true;
    seg.drop_body = bodyless || seg.head_only;
    seg.js_status = status;
  } else {
    if (!bodyless && !seg.head_only) seg.data += cmd.body;
    if (ctx.access_log) ctx.access_log->Answered(id_, seg.seq, status, bodyless || seg.head_only ? 0 : cmd.body.size());
    --awaiting_js_;
  }
  out_bytes_ += seg.data.size();
}

void Connection::Append(Segment& seg, HookCommand& cmd, IoContext& ctx) {
  const uint64_t n = cmd.body.size();
  if (n == 0) return;
  uint64_t take = seg.drop_body ? 0 : n;
  if (seg.length_left >= 0) {
    // Past the declared length nothing goes out: no bytes a client would read as a next response.
    take = std::min<uint64_t>(take, static_cast<uint64_t>(seg.length_left));
    seg.length_left -= static_cast<int64_t>(take);
  }
  if (take < n) ctx.outbox->Ack(id_, seg.seq, n - take);
  if (take == 0) return;
  const size_t before = seg.data.size();
  if (seg.chunked) {
    char size[24];
    const int len = std::snprintf(size, sizeof size, "%llx\r\n", static_cast<unsigned long long>(take));
    seg.data.append(size, static_cast<size_t>(len));
  }
  seg.data.append(cmd.body.data(), static_cast<size_t>(take));
  if (seg.chunked) seg.data += "\r\n";
  out_bytes_ += seg.data.size() - before;
  seg.js_unacked += take;
  seg.js_body_bytes += take;
}

void Connection::EndStream(Segment& seg, bool cut, IoContext& ctx) {
  seg.js_stream = false;
  --awaiting_js_;
  if (ctx.access_log) ctx.access_log->Answered(id_, seg.seq, seg.js_status, seg.js_body_bytes);
  if (seg.drop_body) return;  // the head alone was the whole response
  if (cut) {
    // No last chunk and no more bytes: the client sees a response broken off.
    seg.last = true;
    return;
  }
  if (seg.chunked) {
    seg.data += "0\r\n\r\n";
    out_bytes_ += 5;
  } else if (seg.length_left > 0) {
    seg.last = true;  // shorter than declared: close rather than let what follows be read as its rest
  }
}

void Connection::ReportSent(IoContext& ctx) {
  if (OutEmpty()) return;
  Segment& s = out_[out_head_];
  if (!s.js_stream || s.js_unacked == 0) return;
  // Framing bytes count as unsent too, so JS may be told a little late, never early.
  const uint64_t unsent = s.data.size() - s.sent;
  if (s.js_unacked <= unsent) return;
  const uint64_t n = s.js_unacked - unsent;
  if (unsent > 0 && n < kAckBytes) return;  // acks go in batches, not per write
  s.js_unacked -= n;
  ctx.outbox->Ack(id_, s.seq, n);
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
  out_.emplace_back().data = std::move(bytes);  // built in place: a Segment is large
}

void Connection::EnqueueShared(std::shared_ptr<const std::string> owner, std::string_view bytes) {
  if (bytes.empty()) return;
  out_bytes_ += bytes.size();
  Segment& s = out_.emplace_back();
  s.shared = std::move(owner);
  s.view = bytes;
}

void Connection::EnqueueReply(Reply& reply) {
  if (reply.listing) {
    // Holds its place like a file: what follows waits (Backlogged) until it is built.
    out_.emplace_back().listing = std::move(reply.listing);
    has_file_ = true;
    return;
  }
  if (!reply.file.valid()) {
    // Head and body leave in one sendmsg, the body straight from the cache.
    Enqueue(std::move(reply.memory));
    return EnqueueShared(std::move(reply.body_owner), reply.body);
  }
  if (reply.more.empty()) {
    // The pool sends the head (MSG_MORE) and then the file, so they share a packet without
    // TCP_CORK: a cork held for the whole transfer cost a 10 MiB file ~15% of its loopback
    // throughput (docs/BENCHMARKS.md), and two setsockopt calls per response.
    const size_t at = EnqueueFile(std::move(reply.file), reply.offset, reply.length);
    out_[at].data = std::move(reply.memory);
    has_file_ = true;
    return;
  }
  // A multipart body: head, part heads and file ranges leave corked, unless it waits behind
  // an answer JS still owes: the cork would hold that answer's bytes (a stream's, for as long
  // as it streams) for up to 200 ms each.
  if (!corked_ && awaiting_js_ == 0) {
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
  Segment& s = out_.emplace_back();
  s.file = std::move(file);
  s.offset = offset;
  s.remaining = length;
  return out_.size() - 1;
}

bool Connection::Flush(IoContext& ctx) {
  if (!Send(ctx)) return false;
  ReportSent(ctx);
  return true;
}

bool Connection::Send(IoContext& ctx) {
  while (Sendable()) {
    Segment& front = out_[out_head_];
    if (front.listing) return StartListing(front, ctx);
    if (!front.file.valid() && front.sent == front.bytes().size()) {
      PopSent(ctx);  // a streamed response JS finished after its last bytes went
      continue;
    }
    if (front.file.valid()) return StartFileJob(front, ctx);
    // Gather consecutive memory segments into one sendmsg.
    iovec iov[kMaxIov];
    int count = 0;
    for (auto it = out_.begin() + static_cast<ptrdiff_t>(out_head_); it != out_.end() && count < kMaxIov && !it->file.valid() && !it->pending && !it->listing;
         ++it) {
      const std::string_view bytes = it->bytes();
      iov[count].iov_base = const_cast<char*>(bytes.data() + it->sent);
      iov[count].iov_len = bytes.size() - it->sent;
      ++count;
      // What follows an open stream, or the last response, waits.
      if (it->js_stream || it->last) break;
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
      if (s.sent < size) continue;
      if (s.js_stream) {
        // JS appends more: keep the segment, not the bytes already sent.
        s.data.clear();
        s.sent = 0;
        continue;
      }
      PopSent(ctx);
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
  job.header = file.data;  // a copy: a job that could not start (EMFILE) is submitted again
  uint64_t cookie = 0;
  if (!ctx.aio->Submit(std::move(job), &cookie).ok()) return false;  // the queue closed: shutting down
  aio_job_ = cookie;
  (*ctx.aio_jobs)[cookie] = id_;
  TcpBytesAcked(fd_.get(), &file.acked);
  last_progress_ = ctx.now;
  return true;
}

bool Connection::StartListing(Segment& seg, IoContext& ctx) {
  uint64_t cookie = 0;
  if (!ctx.offload->Submit(seg.listing, ctx.queue, &cookie).ok()) return false;  // no thread to read it
  aio_job_ = cookie;
  (*ctx.aio_jobs)[cookie] = id_;
  last_progress_ = ctx.now;
  return true;
}

bool Connection::OnListingBuilt(IoContext& ctx) {
  last_progress_ = ctx.now;
  // As after a file body: a keep-alive client's idle wait starts once its answer can go out.
  if (phase_ == Phase::kIdle) deadline_ = ctx.now + ctx.options.idle_timeout_ms;
  std::shared_ptr<ListingJob> job = std::move(out_[out_head_].listing);
  // Its reply takes its place: anything queued behind it stays behind.
  std::vector<Segment> behind(std::make_move_iterator(out_.begin() + static_cast<ptrdiff_t>(out_head_) + 1),
                              std::make_move_iterator(out_.end()));
  out_.resize(out_head_ + 1);
  PopFront(ctx);
  EnqueueLogged(job->reply, &job->req, ctx);
  for (Segment& s : behind) out_.push_back(std::move(s));
  RecountJobs();
  return Process(ctx);
}

bool Connection::OnFileSent(const kevent::Ukevent& done, IoContext& ctx) {
  if (done.user != aio_job_ || aio_job_ == 0) return true;  // a job this connection no longer waits for
  aio_job_ = 0;
  Segment& front = out_[out_head_];
  if (front.listing) return OnListingBuilt(ctx);
  const bool out_of_fds = done.err == EMFILE || done.err == ENFILE;
  if ((done.ret_flags & kevent::KEVENT_RET_BROKEN) && out_of_fds && done.ret_data == 0 && ctx.cache && !front.fd_retry) {
    // The pool could not duplicate the fds it needs: cached fds are the ones to give back.
    front.fd_retry = true;
    ctx.cache->ShedFds();
    return StartFileJob(front, ctx);
  }
  // Broken (the peer went away) or short (the file shrank): the promised length cannot be sent.
  if ((done.ret_flags & kevent::KEVENT_RET_BROKEN) || done.ret_data != front.remaining) return false;
  last_progress_ = ctx.now;
  // A keep-alive client's idle wait starts once the body is out, however long it took.
  if (phase_ == Phase::kIdle) deadline_ = ctx.now + ctx.options.idle_timeout_ms;
  if (out_[out_head_].uncork && corked_) {
    SetCork(fd_.get(), false);
    corked_ = false;
  }
  PopFront(ctx);
  RecountJobs();
  return Process(ctx);
}

void Connection::PopSent(IoContext& ctx) {
  if (out_[out_head_].last) {
    // Nothing after it can be framed on this connection: JS hears those requests are lost.
    for (size_t i = out_head_ + 1; i < out_.size(); ++i) {
      if (!out_[i].pending && !out_[i].js_stream) continue;
      ctx.outbox->Mark(kHookAbort, id_, out_[i].seq);
      if (hook_ && out_[i].seq == hook_->stream_rid) hook_->stream_rid = 0;
      --awaiting_js_;
    }
    AbortBodyStream(ctx);
    out_.resize(out_head_ + 1);
    has_file_ = false;
    close_after_flush_ = true;
    must_linger_ = true;
  }
  PopFront(ctx);
}

void Connection::RecountJobs() {
  has_file_ = std::any_of(out_.begin() + static_cast<ptrdiff_t>(out_head_), out_.end(),
                          [](const Segment& s) { return s.file.valid() || s.listing; });
}

void Connection::PopFront(IoContext& ctx) {
  // Closes a finished file and lets go of cached bytes now; the rest goes with the vector.
  Segment& done = out_[out_head_];
  done.file.reset();
  done.shared.reset();
  done.listing.reset();
  ctx.spares->GiveString(&done.data);
  if (++out_head_ < out_.size()) return;
  ctx.spares->GiveOut(&out_);
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
