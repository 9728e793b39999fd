#include "offload.h"

#include <errno.h>

#include <algorithm>

#include "ukevent.h"

namespace kserver {
using kevent::Status;

Status Offload::Submit(std::shared_ptr<Job> job, std::shared_ptr<kevent::Queue> queue, uint64_t* cookie) {
  if (queue->closed()) return Status::Errno(EBADF, "offload", "queue is closed");
  std::lock_guard<std::mutex> lock(mu_);
  // Built without exceptions, like the aio pool: a thread that cannot start aborts.
  if (idle_ == 0 && workers_.size() < max_threads_) workers_.emplace_back([this] { WorkerLoop(); });
  *cookie = kCookieBit | next_cookie_++;
  queued_.push_back({std::move(job), std::move(queue), *cookie});
  cv_.notify_one();
  return Status::Ok();
}

void Offload::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [this] { return stop_ || !queued_.empty(); });
    --idle_;
    if (stop_) return;
    Item item = std::move(queued_.front());
    queued_.pop_front();
    running_.push_back(item.job.get());
    lock.unlock();
    // Cancelled while queued (its client went away): nobody wants the work.
    if (!item.job->cancelled.load(std::memory_order_relaxed)) item.job->Run();
    if (!item.job->cancelled.load(std::memory_order_relaxed)) {
      kevent::Ukevent done;
      done.type = kevent::KEVENT_AIO;
      done.event = kevent::KEVENT_AIO_BIO;
      done.ret_flags = kevent::KEVENT_RET_DONE;
      done.user = item.cookie;
      item.queue->Post(done);  // false: the thread has stopped, nobody waits for it
    }
    lock.lock();
    running_.erase(std::find(running_.begin(), running_.end(), item.job.get()));
  }
}

void Offload::Stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    for (Item& item : queued_) item.job->cancelled = true;
    queued_.clear();
    for (Job* job : running_) job->cancelled = true;
    workers.swap(workers_);
  }
  cv_.notify_all();
  for (std::thread& t : workers) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = false;
}

}  // namespace kserver
