// One client connection on an I/O thread: its input buffer, the HTTP/1.x state machine
// (head, body, answer; pipelined requests answered in order), the output queue, and the
// deadlines a client controls. Only its own thread touches it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chunked.h"
#include "dynamic.h"
#include "http_parser.h"
#include "options.h"
#include "static_files.h"
#include "unique_fd.h"

namespace kserver {

// What an I/O thread shares with its connections for one turn of its loop.
struct IoContext {
  const Options& options;
  const StaticFiles& files;
  std::string date;   // the Date header, refreshed once a second
  int64_t now = 0;    // CLOCK_MONOTONIC ms
  bool draining = false;
  char* scratch;      // recv buffer of kScratchBytes
  std::vector<DynamicRequest>* outbox;  // requests for the JS handler, sent once per loop turn
  FileCache* cache = nullptr;           // the thread's open-file cache, if any
  static constexpr size_t kScratchBytes = 64 * 1024;
};

class Connection {
 public:
  Connection(kevent::UniqueFd fd, uint64_t id, const IoContext& ctx);

  // Each returns false when the connection is finished and must be closed now.
  bool OnReadable(IoContext& ctx);
  bool OnWritable(IoContext& ctx);
  bool OnTick(IoContext& ctx);
  // The JS handler's answer to one of this connection's requests.
  bool Complete(DynamicResponse& response, IoContext& ctx);

  // KEVENT_SOCKET_RECV / _SEND bits the queue should watch; 0 means close it.
  uint32_t WantedEvents() const;

  int fd() const { return fd_.get(); }
  bool awaiting_js() const { return awaiting_js_ > 0; }
  uint64_t id() const { return id_; }
  uint32_t registered = 0;  // bits the queue watches now

 private:
  enum class Phase { kIdle, kHead, kBody, kLinger };
  struct Segment {
    std::string data;
    // Instead of `data`: bytes owned elsewhere (a cached file), referenced, not copied.
    std::shared_ptr<const std::string> shared;
    std::string_view view;
    size_t sent = 0;
    kevent::UniqueFd file;
    uint64_t offset = 0;
    uint64_t remaining = 0;
    bool uncork = false;  // the last piece of a corked head+file response
    // A place held for the JS handler's answer: nothing behind it is sent before it.
    bool pending = false;
    uint64_t seq = 0;
    bool keep_alive = true;
    bool http10 = false;
    bool head_only = false;
    std::string_view bytes() const { return shared ? view : std::string_view(data); }
  };

  // Parses and answers buffered requests, then sends; false when the connection is done.
  bool Process(IoContext& ctx);
  // One pass over buffered input; true when it stopped because responses backed up.
  bool ParseAndAnswer(IoContext& ctx);
  void Dispatch(IoContext& ctx);
  void Fail(int status, IoContext& ctx);
  void Enqueue(std::string bytes);
  void EnqueueShared(std::shared_ptr<const std::string> owner, std::string_view bytes);
  void EnqueueReply(Reply reply);
  // false: the peer is gone.
  bool Flush(IoContext& ctx);
  // After a final response: close now, or half-close and drop input for a while so the
  // peer reads the response before any reset.
  bool Finish(IoContext& ctx);
  // Pipelined requests wait while this much is queued, a file is being sent, or JS owes
  // an answer (which keeps responses in order without a reorder buffer).
  bool Backlogged() const { return out_bytes_ > kBacklogBytes || has_file_ || awaiting_js_ > 0; }
  bool Sendable() const { return !OutEmpty() && !out_[out_head_].pending; }
  void HandToJs(bool keep, IoContext& ctx);
  void CompactInput();
  bool OutEmpty() const { return out_head_ == out_.size(); }
  void PopFront();

  static constexpr size_t kBacklogBytes = 64 * 1024;

  kevent::UniqueFd fd_;
  uint64_t id_;
  Phase phase_ = Phase::kIdle;
  std::string in_;
  size_t in_off_ = 0;
  // Allocated while a request is in progress only: idle connections stay small.
  std::unique_ptr<Request> req_;
  uint64_t body_left_ = 0;
  std::unique_ptr<ChunkedDecoder> chunked_;
  // A vector consumed from out_head_ and released once drained: an idle connection holds no
  // output memory (std::deque would keep a 512-byte node per connection).
  std::vector<Segment> out_;
  size_t out_head_ = 0;
  size_t out_bytes_ = 0;
  bool has_file_ = false;
  uint32_t requests_ = 0;
  uint64_t next_seq_ = 1;
  uint32_t awaiting_js_ = 0;
  bool close_after_flush_ = false;
  bool must_linger_ = false;
  bool peer_closed_ = false;
  bool corked_ = false;
  int64_t deadline_;        // of the current phase: head, body, idle or linger
  int64_t last_progress_;   // of sending, for the send timeout
};

}  // namespace kserver
