#include "engine.h"

#include <time.h>

#include "listener.h"

namespace kserver {
using kevent::Status;

Status Engine::Start(int* port) {
  if (running()) return Status::Errno(EALREADY, "start", "the engine is already running");
  Status st = files_.Open();
  if (!st.ok()) return st;
  const int threads = options_.threads > 0 ? options_.threads : 1;
  st = OpenListeners(options_.host, options_.port, options_.backlog, options_.reuse_port,
                     options_.reuse_port ? threads : 1, &listeners_);
  if (!st.ok()) return st;
  *port = BoundPort(listeners_[0].get());
  shared_.draining = false;
  shared_.listeners_released = 0;
  for (int i = 0; i < threads; ++i) {
    const int fd = listeners_[options_.reuse_port ? i : 0].get();
    auto thread = std::make_unique<IoThread>(i, options_, files_, shared_, fd, &dispatcher_);
    st = thread->Start();
    if (!st.ok()) {
      Stop(0);
      return st;
    }
    std::lock_guard<std::mutex> lock(threads_mu_);
    threads_.push_back(std::move(thread));
  }
  return Status::Ok();
}

void Engine::Stop(int grace_ms) {
  if (threads_.empty()) {
    listeners_.clear();
    return;
  }
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  shared_.drain_deadline = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000 + grace_ms;
  shared_.draining.store(true, std::memory_order_release);
  for (auto& t : threads_) t->Wake();
  {
    // Every thread has dropped the listener from its queue before the fd number is freed.
    std::unique_lock<std::mutex> lock(shared_.mu);
    shared_.cv.wait(lock, [&] { return shared_.listeners_released >= static_cast<int>(threads_.size()); });
  }
  listeners_.clear();
  for (auto& t : threads_) t->Join();
  shared_.offload.Stop();  // listings still being read: nobody waits for them now
  std::lock_guard<std::mutex> lock(threads_mu_);
  threads_.clear();
}

void Engine::Respond(int thread, std::vector<HookCommand> commands) {
  std::lock_guard<std::mutex> lock(threads_mu_);
  if (thread >= 0 && static_cast<size_t>(thread) < threads_.size()) threads_[thread]->Deliver(std::move(commands));
}

std::vector<ThreadStats> Engine::Stats() {
  std::lock_guard<std::mutex> lock(threads_mu_);
  std::vector<ThreadStats> out;
  for (const auto& t : threads_) out.push_back(t->Stats());
  return out;
}

}  // namespace kserver
