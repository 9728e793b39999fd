// One native I/O thread: its own kevent queue holding the listening socket (wake-one) and
// its connections, an accept loop, and a periodic sweep for deadlines.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "connection.h"
#include "file_cache.h"
#include "offload.h"
#include "queue.h"
#include "status.h"

namespace kserver {

// State every I/O thread of one engine shares.
struct EngineShared {
  std::atomic<uint32_t> connections{0};
  std::atomic<bool> draining{false};
  std::atomic<int64_t> drain_deadline{0};  // CLOCK_MONOTONIC ms
  std::mutex mu;
  std::condition_variable cv;
  int listeners_released = 0;  // guarded by mu
  AccessSink access_sink;      // set before Start when the access log is on
  std::shared_ptr<AccessBudget> access_budget;
  Offload offload;  // directory listings, off the I/O threads
};

struct ThreadStats {
  uint64_t accepted;
  uint32_t connections;
  uint64_t accept_pauses;   // EMFILE/ENFILE or max connections reached
  uint64_t balance_pauses;  // stepped out of accepting while over its share
  uint64_t access_log_dropped;  // records JS had no room for
  FileCacheStats file_cache;
};

class IoThread {
 public:
  IoThread(int index, const Options& options, const StaticFiles& files, EngineShared& shared, int listen_fd,
           const Dispatcher* dispatcher);
  ~IoThread();
  kevent::Status Start();
  // Wakes the thread to stop accepting and drain (EngineShared::draining is already set).
  void Wake();
  void Join();
  // From the JS thread: commands for this thread's connections, run on its next turn.
  void Deliver(std::vector<HookCommand> commands);
  ThreadStats Stats() const;

 private:
  void Run();
  void HandleEvent(const kevent::Ukevent& ev);
  void HandleFileSent(const kevent::Ukevent& ev);
  void AcceptAll();
  void PauseAccepting(int64_t until);
  // Drops the listener from this queue for good and tells Engine::Stop.
  void ReleaseListener();
  bool SetListening(bool on);
  bool OverShare() const;
  void Sweep();
  // Brings the queue's watch in line with what the connection wants; false: close it.
  bool Sync(Connection* conn);
  void Close(uint64_t id);
  void RefreshClock();
  void DrainInbox();
  void RunCommands(std::vector<HookCommand>& batch);
  // `force`: send even while JS still works on the last batch (the thread is ending).
  void FlushOutbox(bool force = false);

  const int index_;
  const Options& options_;
  EngineShared& shared_;
  const int listen_fd_;
  std::shared_ptr<kevent::Queue> queue_;
  std::unique_ptr<FileCache> cache_;  // after queue_: its watches go before the queue
  std::thread thread_;
  std::unique_ptr<char[]> scratch_;
  kevent::UniqueFd reserve_;  // held while accepting; freed on EMFILE so requests can open files
  IoContext ctx_;
  ConnSpares spares_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns_;
  std::unordered_map<uint64_t, uint64_t> aio_jobs_;  // file jobs in flight: cookie -> connection id
  const Dispatcher* dispatcher_;
  HookOutbox outbox_;
  std::shared_ptr<HookFlow> flow_ = std::make_shared<HookFlow>();
  std::unique_ptr<AccessLog> access_log_;  // null when the log is off
  std::mutex inbox_mu_;
  std::vector<HookCommand> inbox_;  // guarded by inbox_mu_
  std::vector<Connection*> hook_batched_;  // DrainInbox's, kept for its capacity
  uint64_t next_id_ = 1;
  bool listening_ = false;
  bool nodelay_inherited_ = false;
  bool released_ = false;
  int64_t resume_accept_at_ = -1;
  int64_t next_sweep_ = 0;
  int tick_ms_;
  time_t date_second_ = 0;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint32_t> live_{0};
  std::atomic<uint64_t> accept_pauses_{0};
  std::atomic<uint64_t> balance_pauses_{0};
};

}  // namespace kserver
