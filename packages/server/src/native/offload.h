// Work that may wait on the disk and is not a file body (the aio pool sends those): reading a
// directory for a listing, loading a small file's bytes where RWF_NOWAIT cannot tell whether
// they are cached. It runs on a few worker threads of the engine, never on an I/O thread.
// A finished job is reported the way an aio file job is: a KEVENT_AIO event whose `user` is
// the job's cookie, posted to the queue of the thread that submitted it, which then reads
// the job's result. A job whose queue has closed, or that was cancelled, is reported to
// nobody.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "queue.h"
#include "status.h"

namespace kserver {

class Offload {
 public:
  struct Job {
    virtual ~Job() = default;
    // On a worker. Long loops check `cancelled` and give up.
    virtual void Run() = 0;
    std::atomic<bool> cancelled{false};
  };
  // Set in every cookie: an I/O thread keeps these and the aio pool's in one map.
  static constexpr uint64_t kCookieBit = 1ull << 63;

  // Workers start with the first jobs, up to `max_threads`.
  explicit Offload(unsigned max_threads = 2) : max_threads_(max_threads) {}
  ~Offload() { Stop(); }
  Offload(const Offload&) = delete;
  Offload& operator=(const Offload&) = delete;

  // Fails (EBADF) only when `queue` is closed: its thread is stopping.
  kevent::Status Submit(std::shared_ptr<Job> job, std::shared_ptr<kevent::Queue> queue, uint64_t* cookie);
  // Cancels queued and running jobs and joins the workers; later Submits start new ones.
  void Stop();

 private:
  struct Item {
    std::shared_ptr<Job> job;
    std::shared_ptr<kevent::Queue> queue;
    uint64_t cookie;
  };
  void WorkerLoop();

  const unsigned max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queued_;
  std::vector<Job*> running_;
  std::vector<std::thread> workers_;
  unsigned idle_ = 0;
  bool stop_ = false;
  uint64_t next_cookie_ = 1;
};

}  // namespace kserver
