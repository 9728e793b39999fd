// One client connection on an I/O thread: its input buffer, the HTTP/1.x state machine
// (head, body, answer; pipelined requests answered in order), the output queue, and the
// deadlines a client controls. Only its own thread touches it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "access_log.h"
#include "aio_pool.h"
#include "chunked.h"
#include "dynamic.h"
#include "http_parser.h"
#include "options.h"
#include "peer.h"
#include "static_files.h"
#include "unique_fd.h"

namespace kserver {

struct ConnSpares;

// What an I/O thread shares with its connections for one turn of its loop.
struct IoContext {
  const Options& options;
  const StaticFiles& files;
  std::string date;   // the Date header, refreshed once a second
  int64_t now = 0;    // CLOCK_MONOTONIC ms
  bool draining = false;
  char* scratch;      // recv buffer of kScratchBytes
  HookOutbox* outbox;  // what the JS handler must learn, sent once per loop turn
  AccessLog* access_log = nullptr;      // set only when the access log is on
  // File bodies go to the aio pool, off the I/O thread (a cold file's disk reads would stall
  // every connection on it); completions come back to this thread's queue.
  kevent::AioPool* aio = nullptr;
  std::shared_ptr<kevent::Queue> queue;
  std::unordered_map<uint64_t, uint64_t>* aio_jobs = nullptr;  // cookie -> connection id
  Offload* offload = nullptr;  // directory listings, reported to aio_jobs like file jobs
  FileCache* cache = nullptr;           // the thread's open-file cache, if any
  ConnSpares* spares = nullptr;         // buffers finished requests gave back, for the next ones
  static constexpr size_t kScratchBytes = 64 * 1024;
};

class Connection {
 public:
  Connection(kevent::UniqueFd fd, uint64_t id, const IoContext& ctx);

  // Each returns false when the connection is finished and must be closed now.
  bool OnReadable(IoContext& ctx);
  bool OnWritable(IoContext& ctx);
  bool OnTick(IoContext& ctx);
  // A command from the JS handler for one of this connection's requests. It only takes the
  // command in: the caller runs Process once after the batch's last command for this
  // connection, so answers to pipelined requests leave in one send.
  void TakeHook(HookCommand& cmd, IoContext& ctx);
  // After the batch: answers what the commands unblocked and sends; false: close it now.
  bool EndHookBatch(IoContext& ctx) { return Process(ctx); }
  // The connection is closing: JS hears of every request it still answers or reads, and the
  // access log (when on) gets an entry for each request left unanswered.
  void Abandon(HookOutbox* outbox, AccessLog* log);
  // The KEVENT_AIO completion of this connection's file job (aio pool) or listing (Offload).
  bool OnFileSent(const kevent::Ukevent& done, IoContext& ctx);

  // KEVENT_SOCKET_RECV / _SEND bits the queue should watch; 0 means close it.
  uint32_t WantedEvents() const;

  int fd() const { return fd_.get(); }
  // JS owes an answer, or must read body bytes before the connection can go on.
  bool awaiting_js() const { return awaiting_js_ > 0 || (hook_ && hook_->stream_rid && BodyWindowFull()); }
  uint64_t id() const { return id_; }
  uint64_t aio_job() const { return aio_job_; }  // 0: none in flight
  uint32_t registered = 0;  // bits the queue watches now
  bool hook_batched = false;  // took a command in the hook batch being run

 private:
  enum class Phase : uint8_t { kIdle, kHead, kBody, kLinger };

 public:  // for ConnSpares only
  struct Segment {
    std::string data;
    // Instead of `data`: bytes owned elsewhere (a cached file), referenced, not copied.
    std::shared_ptr<const std::string> shared;
    std::string_view view;
    size_t sent = 0;
    kevent::UniqueFd file;
    uint64_t offset = 0;
    uint64_t remaining = 0;
    uint64_t acked = 0;   // the peer's tcpi_bytes_acked when last seen, while the pool sends
    bool uncork = false;  // the last piece of a corked head+file response
    bool fd_retry = false;  // its file job was resubmitted once after EMFILE
    // A place held for the JS handler's answer: nothing behind it is sent before it.
    bool pending = false;
    // A listing a worker is building: its reply takes this place once done.
    std::shared_ptr<ListingJob> listing;
    uint64_t seq = 0;
    bool keep_alive = true;
    bool http10 = false;
    bool head_only = false;
    // A response JS streams: open until JS finishes it; bytes are appended to `data`.
    bool js_stream = false;
    bool chunked = false;
    bool drop_body = false;     // HEAD, 204, 304: JS's bytes are counted and dropped
    bool last = false;          // framing is broken or close-delimited: close after it
    int64_t length_left = -1;   // of a declared Content-Length
    uint64_t js_unacked = 0;    // JS's bytes taken and not yet reported as sent
    uint64_t js_body_bytes = 0;  // body bytes JS streamed, for the access log
    int js_status = 0;
    std::string_view bytes() const { return shared ? view : std::string_view(data); }
  };

 private:
  // Where the body of the request being read goes.
  enum class BodyMode : uint8_t { kDiscard, kBuffer, kStream };
  // Allocated on a connection's first JS request only.
  struct HookState {
    PeerAddress peer;
    uint64_t stream_rid = 0;   // the request whose body streams to JS now
    uint64_t body_unread = 0;  // body bytes handed to JS and not yet read there
  };

  // Parses and answers buffered requests, then sends; false when the connection is done.
  bool Process(IoContext& ctx);
  // One pass over buffered input; true when it stopped because responses backed up.
  bool ParseAndAnswer(IoContext& ctx);
  void Fail(int status, IoContext& ctx);
  void Enqueue(std::string bytes);
  void EnqueueShared(std::shared_ptr<const std::string> owner, std::string_view bytes);
  // Both take the reply's buffers and fds, leaving it empty (by reference: a Reply is large).
  void EnqueueReply(Reply& reply);
  // EnqueueReply, and the access log's record of it when the log is on.
  void EnqueueLogged(Reply& reply, const Request* req, IoContext& ctx);
  // Index of the new segment in out_.
  size_t EnqueueFile(kevent::UniqueFd file, uint64_t offset, uint64_t length);
  // false: the peer is gone.
  bool Flush(IoContext& ctx);
  bool StartFileJob(Segment& file, IoContext& ctx);
  bool StartListing(Segment& seg, IoContext& ctx);
  bool OnListingBuilt(IoContext& ctx);
  bool Send(IoContext& ctx);
  // Pops the front segment, all of it sent; after a `last` one nothing else goes out.
  void PopSent(IoContext& ctx);
  void AbortBodyStream(IoContext& ctx);
  // After a final response: close now, or half-close and drop input for a while so the
  // peer reads the response before any reset.
  bool Finish(IoContext& ctx);
  // Pipelined requests wait while this much is queued, a file is being sent, or JS owes
  // kMaxJsInFlight answers. Responses keep request order anyway: each request JS holds has
  // its place in out_, and nothing behind a place is sent before it is filled.
  bool Backlogged() const { return out_bytes_ > kBacklogBytes || has_file_ || awaiting_js_ >= kMaxJsInFlight; }
  bool Sendable() const {
    if (OutEmpty() || aio_job_ != 0) return false;
    const Segment& s = out_[out_head_];
    return !s.pending && !(s.js_stream && s.sent == s.data.size());
  }
  // Routes a request whose head is parsed: static files, or the JS handler.
  void Dispatch(IoContext& ctx);
  void HandToJs(bool body_follows, IoContext& ctx);
  void EndRequest(IoContext& ctx);
  void FailStream(int status, IoContext& ctx);
  bool BodyWindowFull() const;
  // While JS reads a streamed body, that body alone decides whether to read on.
  bool WantsInput() const;
  Segment* FindJs(uint64_t rid);
  void Answer(Segment& seg, HookCommand& cmd, IoContext& ctx);
  void Append(Segment& seg, HookCommand& cmd, IoContext& ctx);
  void EndStream(Segment& seg, bool cut, IoContext& ctx);
  void ReportSent(IoContext& ctx);
  void CompactInput(IoContext& ctx);
  bool OutEmpty() const { return out_head_ == out_.size(); }
  // has_file_ from what is still queued, after a job ended.
  void RecountJobs();
  void PopFront(IoContext& ctx);

  static constexpr size_t kBacklogBytes = 64 * 1024;
  // Pipelined requests JS may work on at once for one connection (a batch carries them all).
  static constexpr uint32_t kMaxJsInFlight = 16;
  static constexpr uint64_t kBodyWindow = 256 * 1024;  // request body JS may hold unread
  static constexpr uint64_t kAckBytes = 64 * 1024;     // sent bytes worth an ack before a drain

  kevent::UniqueFd fd_;
  uint64_t id_;
  std::string in_;
  size_t in_off_ = 0;
  // Allocated while a request is in progress only: idle connections stay small.
  std::unique_ptr<Request> req_;
  uint64_t body_left_ = 0;
  std::unique_ptr<ChunkedDecoder> chunked_;
  std::unique_ptr<Reply> held_reply_;  // a static answer waiting for its request body to pass
  std::unique_ptr<HookState> hook_;
  BodyMode body_mode_ = BodyMode::kDiscard;
  bool keep_ = true;  // the current request's keep-alive
  // A vector consumed from out_head_ and released once drained: an idle connection holds no
  // output memory (std::deque would keep a 512-byte node per connection).
  std::vector<Segment> out_;
  size_t out_head_ = 0;
  size_t out_bytes_ = 0;
  uint64_t aio_job_ = 0;  // the pool's cookie while it sends the front file segment
  // The small fields together, so padding does not grow every idle connection.
  uint32_t requests_ = 0;
  uint32_t awaiting_js_ = 0;
  Phase phase_ = Phase::kIdle;
  bool has_file_ = false;  // a file or listing job is queued: what follows waits
  bool close_after_flush_ = false;
  bool must_linger_ = false;
  bool peer_closed_ = false;
  bool corked_ = false;
  int64_t deadline_;        // of the current phase: head, body, idle or linger
  int64_t last_progress_;   // of sending, for the send timeout
};

// Per I/O thread: a finished request's parsed head, a drained input buffer and output queue
// go here instead of back to the heap, and the next request on any connection of the thread
// takes them. Keep-alive requests then allocate little, while idle connections still hold
// no buffers. Bounded in count and in the size of what is kept.
struct ConnSpares {
  static constexpr size_t kMax = 256;
  static constexpr size_t kMaxString = 4096;    // bytes of capacity a buffer may keep
  static constexpr size_t kMaxSegments = 8;     // capacity an output queue may keep
  std::vector<std::unique_ptr<Request>> requests;
  std::vector<std::string> strings;  // input buffers and response heads alike
  std::vector<std::vector<Connection::Segment>> outs;

  std::unique_ptr<Request> TakeRequest();
  void GiveRequest(std::unique_ptr<Request> req);
  // Swaps an empty spare buffer into an empty `s` / `out`, or gives theirs back leaving
  // them empty.
  void TakeString(std::string* s);
  void GiveString(std::string* s);
  void TakeOut(std::vector<Connection::Segment>* out);
  void GiveOut(std::vector<Connection::Segment>* out);
};

}  // namespace kserver
