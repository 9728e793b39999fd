// aio_sendfile / aio_sendfile_path (the seed's asynchronous sendfile) on our own threads.
//
// A job moves a header and then a file range to a socket with sendfile(2), so file bytes
// never pass through user space. Pool threads only ever wait on the disk: when the socket
// buffer is full the job parks (a one-shot SEND request in a private kevent::Queue, watched
// by one poller thread) and no thread sleeps on it. The end of each job is one KEVENT_AIO
// event posted to the caller's queue. No N-API here: the HTTP engine links this directly.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "queue.h"
#include "status.h"

namespace kevent {

struct AioRequest {
  std::shared_ptr<Queue> queue;  // where the completion goes
  int sock_fd = -1;              // destination; should be non-blocking (see README)
  int in_fd = -1;                // source file, or -1 to open `path` on the pool
  std::string path;
  std::string header;            // sent before the file's bytes
  uint64_t offset = 0;
  uint64_t count = 0;            // 0: to end of file
};

struct AioStats {
  uint32_t threads = 0;    // pool threads running
  uint32_t busy = 0;       // of those, working on a job right now
  uint64_t jobs = 0;       // submitted and not yet finished (queued + running + parked)
  uint64_t queued = 0;     // waiting for a pool thread
  uint64_t parked = 0;     // waiting for their socket to become writable
  uint64_t completed = 0;  // completions posted since start (DONE or BROKEN)
  uint64_t cancelled = 0;  // ended without a completion because their queue closed
  uint64_t parks = 0;      // times any job parked since start
};

class AioPool {
 public:
  // Threads are started by the first Submit or Resize; 0 picks DefaultThreads().
  explicit AioPool(unsigned threads = 0);
  // Cancels every job (no completions) and joins the threads.
  ~AioPool();
  AioPool(const AioPool&) = delete;
  AioPool& operator=(const AioPool&) = delete;

  // Twice the cores, at least 4: pool threads block only on the disk, so a few more than
  // the cores keep reads in flight while others send.
  static unsigned DefaultThreads();

  // Duplicates the request's fds (so the caller may close its own at once) and queues the
  // job. Fails only when the queue is closed (EBADF) or the pool cannot start; a bad fd, a
  // missing file or a transfer error becomes a KEVENT_RET_BROKEN completion instead.
  Status Submit(AioRequest request, uint64_t* cookie);

  // Sets the number of pool threads. Waits for running threads to finish their current
  // step (one sendfile slice); queued and parked jobs carry over.
  Status Resize(unsigned threads);
  // Ends the job `cookie` without a completion (its owner has gone away); a worker closes its
  // fds soon after, within one sendfile slice. Nothing happens when it has finished already:
  // its completion may still be in the queue, so the owner must ignore unknown cookies.
  void Cancel(uint64_t cookie);
  AioStats Stats();

 private:
  struct Job;
  enum class Outcome { kDone, kBroken, kPark, kYield, kCancelled };

  Status StartLocked();
  void StopWorkers();
  void WorkerLoop();
  void PollerLoop();
  Outcome Step(Job& job);
  Outcome SendHeader(Job& job);
  Outcome SendFile(Job& job);
  void Prefetch(Job& job);
  void ParkLocked(Job* job);
  void RequeueLocked(Job* job);
  void Finish(Job* job, Outcome outcome);

  unsigned target_threads_;
  std::mutex resize_mu_;  // one Resize at a time; never taken with mu_ held
  std::mutex mu_;
  std::condition_variable work_cv_;
  bool started_ = false;
  bool stop_workers_ = false;
  std::vector<std::thread> workers_;
  std::thread poller_;
  std::shared_ptr<Queue> park_queue_;  // private: one-shot SEND requests of parked jobs
  std::unordered_map<uint64_t, std::unique_ptr<Job>> jobs_;
  std::deque<Job*> runnable_;
  uint64_t next_id_ = 1;
  uint64_t live_ = 0;  // jobs submitted and not finished: jobs_ plus those in Finish
  uint32_t busy_ = 0;
  uint64_t parked_ = 0;
  uint64_t completed_ = 0;
  uint64_t cancelled_ = 0;
  uint64_t parks_ = 0;
};

}  // namespace kevent
