// One HTTP engine: the document root, the listening socket(s) and N I/O threads.
#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "io_thread.h"
#include "options.h"
#include "static_files.h"
#include "status.h"
#include "unique_fd.h"

namespace kserver {

class Engine {
 public:
  explicit Engine(Options options) : options_(std::move(options)), files_(options_) {}
  ~Engine() { Stop(0); }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Binds, starts the threads, and reports the bound port.
  kevent::Status Start(int* port);
  // Stops accepting at once, lets in-flight requests finish for up to `grace_ms`, then
  // closes what is left. Blocks; call it off the JS thread.
  void Stop(int grace_ms);
  std::vector<ThreadStats> Stats();
  // Set before Start when a JS handler exists.
  void SetDispatcher(Dispatcher dispatcher) { dispatcher_ = std::move(dispatcher); }
  // Set before Start when options.access_log is on.
  void SetAccessSink(AccessSink sink) {
    shared_.access_sink = std::move(sink);
    shared_.access_budget = std::make_shared<AccessBudget>(options_.access_log_limit);
  }
  // From the JS thread: the handler's answers for I/O thread `thread`.
  void Respond(int thread, std::vector<HookCommand> commands);
  bool running() const { return !threads_.empty(); }

 private:
  Options options_;
  StaticFiles files_;
  EngineShared shared_;
  std::vector<kevent::UniqueFd> listeners_;
  Dispatcher dispatcher_;
  std::mutex threads_mu_;  // Respond (JS thread) against Start/Stop (worker thread)
  std::vector<std::unique_ptr<IoThread>> threads_;
};

}  // namespace kserver
