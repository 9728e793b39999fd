#include "io_thread.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <tuple>

#include "http_date.h"
#include "ukevent.h"

namespace kserver {
using namespace kevent;

namespace {
constexpr uint64_t kListenerUser = 0;  // connection ids start at 1
constexpr int kAcceptPauseMs = 100;    // after EMFILE/ENFILE: no busy loop on a full table
constexpr size_t kEventsPerWait = 256;
constexpr uint32_t kBalanceSlack = 32;  // connections over the fair share before stepping out

int64_t MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Deadlines are checked by a sweep; its period is a quarter of the shortest timeout.
int TickFor(const Options& o) {
  const int shortest = std::min({o.header_timeout_ms, o.body_timeout_ms, o.idle_timeout_ms, o.send_timeout_ms, o.linger_ms});
  return std::clamp(shortest / 4, 5, 500);
}

Ukevent SocketEvent(int fd, uint64_t user, uint32_t events, uint32_t flags) {
  Ukevent ev{};
  ev.type = KEVENT_SOCKET;
  ev.id = static_cast<uint64_t>(fd);
  ev.user = user;
  ev.event = events;
  ev.req_flags = flags;
  return ev;
}

// Connections live in exactly one queue, so WAKEUP_ALL costs nothing and keeps them out of
// EPOLLEXCLUSIVE mode, which epoll cannot modify in place.
constexpr uint32_t kConnFlags = KEVENT_REQ_WAKEUP_ALL | KEVENT_REQ_ALWAYS_QUEUE;

// One pool for every engine in the process, sized for the disk rather than per thread. Never
// destroyed: at exit its threads may sit in a disk read, and joining them from a static
// destructor would hold the process up. A closed queue cancels its jobs.
AioPool& FilePool() {
  static AioPool* pool = new AioPool();
  return *pool;
}
}  // namespace

IoThread::IoThread(int index, const Options& options, const StaticFiles& files, EngineShared& shared, int listen_fd,
                   const Dispatcher* dispatcher)
    : index_(index),
      options_(options),
      shared_(shared),
      listen_fd_(listen_fd),
      scratch_(new char[IoContext::kScratchBytes]),
      ctx_{options, files, std::string(), 0, false, scratch_.get(), &outbox_},
      dispatcher_(dispatcher),
      tick_ms_(TickFor(options)) {
  if (options.access_log && shared.access_budget) {
    access_log_ = std::make_unique<AccessLog>(index, &shared.access_sink, shared.access_budget);
    ctx_.access_log = access_log_.get();
  }
}

IoThread::~IoThread() { Join(); }

Status IoThread::Start() {
  Status st;
  queue_ = Queue::Create(&st);
  if (!st.ok()) return st;
  ctx_.queue = queue_;
  ctx_.aio = &FilePool();
  ctx_.aio_jobs = &aio_jobs_;
  ctx_.offload = &shared_.offload;
  ctx_.spares = &spares_;
  if (ctx_.files.root_fd() >= 0 && options_.file_cache_entries > 0) {
    cache_ = std::make_unique<FileCache>(options_, ctx_.files, queue_, &shared_.offload);
    ctx_.cache = cache_.get();
  }
  RefreshClock();
  // Linux copies TCP_NODELAY from the listener to each accepted socket: one setsockopt here
  // instead of one per connection (heads are corked explicitly where it matters).
  int one = 1;
  nodelay_inherited_ = setsockopt(listen_fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
  reserve_.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!reserve_.valid()) return Status::Errno(errno, "open", "cannot open the reserve fd (/dev/null)");
  if (!SetListening(true)) return Status::Errno(errno ? errno : EINVAL, "kevent_ctl", "cannot watch the listening socket");
  flow_->wake = [queue = std::weak_ptr<Queue>(queue_)] {
    if (auto q = queue.lock()) {
      Status ignored;  // a queue already closed has no thread left to wake
      q->Ctl(KEVENT_CTL_READY, nullptr, nullptr, 0, &ignored);
    }
  };
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void IoThread::Wake() {
  Status st;
  if (queue_) queue_->Ctl(KEVENT_CTL_READY, nullptr, nullptr, 0, &st);
}

void IoThread::Deliver(std::vector<HookCommand> commands) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    wake = inbox_.empty();  // otherwise a wake is on its way already
    if (inbox_.empty()) inbox_ = std::move(commands);
    else for (auto& c : commands) inbox_.push_back(std::move(c));
  }
  if (wake) Wake();
}

void IoThread::DrainInbox() {
  std::vector<HookCommand> batch;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    batch.swap(inbox_);
  }
  RunCommands(batch);
}

void IoThread::RunCommands(std::vector<HookCommand>& batch) {
  // One connection's pipelined requests are often answered in one batch: take every command
  // in first, then process (and send) once per connection.
  hook_batched_.clear();
  for (HookCommand& c : batch) {
    auto it = conns_.find(c.conn);
    if (it == conns_.end()) continue;  // the client went away meanwhile; JS was told
    Connection* conn = it->second.get();
    conn->TakeHook(c, ctx_);
    if (!conn->hook_batched) hook_batched_.push_back(conn);
    conn->hook_batched = true;
  }
  // Nothing closes a connection between the two loops, so the pointers are still good.
  for (Connection* conn : hook_batched_) {
    conn->hook_batched = false;
    if (!conn->EndHookBatch(ctx_) || !Sync(conn)) Close(conn->id());
  }
  hook_batched_.clear();
}

void IoThread::FlushOutbox(bool force) {
  if (outbox_.empty()) return;
  if (!force && flow_->in_flight.load()) {
    flow_->deferred.store(true);
    // JS may have finished between the two loads; then nobody would wake us for this batch.
    if (flow_->in_flight.load()) return;
    flow_->deferred.store(false);
  }
  std::unique_ptr<DynamicBatch> batch = outbox_.Take(index_);
  batch->flow = flow_;
  flow_->in_flight.store(true);
  if (dispatcher_ && *dispatcher_ && (*dispatcher_)(batch)) return;
  flow_->in_flight.store(false);
  // No JS to take them (the handler is being torn down): 503 in their places.
  std::vector<HookCommand> unavailable(batch->requests.size());
  for (size_t i = 0; i < unavailable.size(); ++i) {
    HookCommand& c = unavailable[i];
    c.type = kCmdAnswer;
    std::tie(c.conn, c.rid) = batch->requests[i];
    c.status = 503;
    c.body = "503 Service Unavailable\n";
  }
  RunCommands(unavailable);
}

void IoThread::Join() {
  if (thread_.joinable()) thread_.join();
}

ThreadStats IoThread::Stats() const {
  return {accepted_.load(), live_.load(), accept_pauses_.load(), balance_pauses_.load(),
          access_log_ ? access_log_->dropped() : 0,
          cache_ ? cache_->Stats() : FileCacheStats{}};
}

void IoThread::RefreshClock() {
  ctx_.now = MonotonicMs();
  if (cache_) cache_->set_now(ctx_.now);
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  if (ts.tv_sec != date_second_) {
    date_second_ = ts.tv_sec;
    ctx_.date = FormatHttpDate(ts.tv_sec);
  }
}

bool IoThread::SetListening(bool on) {
  if (on == listening_) return true;
  // Wake-one: no WAKEUP_ALL, so the queue registers the socket EPOLLEXCLUSIVE.
  Ukevent ev = SocketEvent(listen_fd_, kListenerUser, KEVENT_SOCKET_ACCEPT, KEVENT_REQ_ALWAYS_QUEUE);
  Status st;
  queue_->Ctl(on ? KEVENT_CTL_ADD : KEVENT_CTL_REMOVE, &ev, nullptr, 1, &st);
  if (ev.ret_flags & KEVENT_RET_BROKEN) {
    errno = static_cast<int>(ev.err);
    return false;
  }
  listening_ = on;
  return true;
}

void IoThread::ReleaseListener() {
  if (released_) return;
  SetListening(false);
  released_ = true;
  resume_accept_at_ = -1;
  std::lock_guard<std::mutex> lock(shared_.mu);
  ++shared_.listeners_released;
  shared_.cv.notify_all();
}

void IoThread::PauseAccepting(int64_t until) {
  ++accept_pauses_;
  SetListening(false);
  resume_accept_at_ = until;
}

void IoThread::Run() {
  std::vector<Ukevent> events;
  events.reserve(kEventsPerWait);
  for (;;) {
    RefreshClock();
    ctx_.draining = shared_.draining.load(std::memory_order_acquire);
    if (ctx_.draining) {
      ReleaseListener();
      if (conns_.empty() || ctx_.now >= shared_.drain_deadline.load()) break;
    }
    if (ctx_.now >= next_sweep_ || ctx_.draining) Sweep();
    DrainInbox();
    FlushOutbox();

    events.clear();
    Status st;
    const int n = queue_->GetEvents(1, kEventsPerWait, tick_ms_, 0, &events, &st);
    if (n < 0) {
      if (st.err == EINTR) continue;
      break;  // EBADF: the queue was closed under us
    }
    RefreshClock();
    // File changes first: a request that arrived after a change must not get the old file.
    if (cache_)
      for (const Ukevent& ev : events)
        if (ev.type == KEVENT_INODE) cache_->OnEvent(ev);
    for (const Ukevent& ev : events) HandleEvent(ev);
    FlushOutbox();
    if (access_log_) access_log_->Flush();
  }
  if (access_log_) access_log_->Flush();
  ReleaseListener();  // also when the loop ended on an error: Engine::Stop waits for it
  // Past the grace period: whatever is still open is cut.
  while (!conns_.empty()) Close(conns_.begin()->first);
  FlushOutbox(true);  // JS hears of the requests it can no longer answer
  if (access_log_) access_log_->Flush();  // and the log of them
  queue_->Close();
}

void IoThread::HandleEvent(const Ukevent& ev) {
  if (ev.type == KEVENT_AIO) return HandleFileSent(ev);
  if (ev.type == KEVENT_INODE) return;  // the cache's, taken before the batch
  if (ev.user == kListenerUser) {
    if (listening_) AcceptAll();
    return;
  }
  auto it = conns_.find(ev.user);
  if (it == conns_.end()) return;  // closed earlier in this batch
  Connection* conn = it->second.get();
  bool alive = true;
  if (ev.event & KEVENT_SOCKET_SEND) alive = conn->OnWritable(ctx_);
  if (alive && (ev.event & KEVENT_SOCKET_RECV)) alive = conn->OnReadable(ctx_);
  if (!alive || !Sync(conn)) Close(conn->id());
}

void IoThread::HandleFileSent(const Ukevent& ev) {
  auto job = aio_jobs_.find(ev.user);
  if (job == aio_jobs_.end()) {
    // A load of the file cache, or a job whose connection closed (and cancelled it) meanwhile.
    if (cache_) cache_->OnLoaded(ev.user);
    return;
  }
  const uint64_t id = job->second;
  aio_jobs_.erase(job);
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Connection* conn = it->second.get();
  if (!conn->OnFileSent(ev, ctx_) || !Sync(conn)) Close(id);
}

void IoThread::AcceptAll() {
  for (;;) {
    if (options_.max_connections && shared_.connections.load(std::memory_order_relaxed) >= options_.max_connections) {
      // New clients wait in the backlog; a close below the limit lets the sweep resume.
      PauseAccepting(ctx_.now);
      return;
    }
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      switch (errno) {
        case EAGAIN: return;
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
        case EPERM: continue;  // that client is gone or refused; the next may be fine
        case EMFILE:
        case ENFILE:
          // The table is full: the connections already accepted still need to open their
          // files, so the reserve fd goes back to them until accepting resumes.
          reserve_.reset();
          PauseAccepting(ctx_.now + kAcceptPauseMs);
          return;
        default:  // ENOBUFS, ENOMEM and the unexpected: back off the same way
          PauseAccepting(ctx_.now + kAcceptPauseMs);
          return;
      }
    }
    UniqueFd sock(fd);
    if (!nodelay_inherited_) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    const uint64_t id = next_id_++;
    Ukevent ev = SocketEvent(fd, id, KEVENT_SOCKET_RECV, kConnFlags);
    Status st;
    queue_->Ctl(KEVENT_CTL_ADD, &ev, nullptr, 1, &st);
    if (ev.ret_flags & KEVENT_RET_BROKEN) continue;  // sock closes; nothing was registered
    auto conn = std::make_unique<Connection>(std::move(sock), id, ctx_);
    conn->registered = KEVENT_SOCKET_RECV;
    conns_.emplace(id, std::move(conn));
    if (access_log_) access_log_->Open(id, fd);
    shared_.connections.fetch_add(1, std::memory_order_relaxed);
    live_.fetch_add(1, std::memory_order_relaxed);
    accepted_.fetch_add(1, std::memory_order_relaxed);
    if (OverShare()) {
      // Wake-one favours the thread that parked last, so one thread can take nearly every
      // connection. A thread well over its share steps out until its next sweep; the
      // others, the least loaded always among them, keep accepting.
      SetListening(false);
      resume_accept_at_ = ctx_.now;
      ++balance_pauses_;
      return;
    }
  }
}

bool IoThread::OverShare() const {
  if (options_.threads < 2 || options_.reuse_port) return false;  // SO_REUSEPORT spreads by hash
  const uint32_t total = shared_.connections.load(std::memory_order_relaxed);
  const uint32_t fair = total / static_cast<uint32_t>(options_.threads);
  return live_.load(std::memory_order_relaxed) > fair + fair / 4 + kBalanceSlack;
}

bool IoThread::Sync(Connection* conn) {
  const uint32_t want = conn->WantedEvents();
  if (want == conn->registered) return true;
  if (want == 0 && !conn->awaiting_js() && !conn->aio_job()) return false;
  // Waiting only for JS or the aio pool: the socket leaves the queue (no event can be zero
  // bits) and comes back when the answer makes it want something again.
  const uint32_t cmd = want == 0 ? KEVENT_CTL_REMOVE : conn->registered == 0 ? KEVENT_CTL_ADD : KEVENT_CTL_MODIFY;
  Ukevent ev = SocketEvent(conn->fd(), conn->id(), want == 0 ? conn->registered : want, kConnFlags);
  Status st;
  queue_->Ctl(cmd, &ev, nullptr, 1, &st);
  if (ev.ret_flags & KEVENT_RET_BROKEN) return false;
  conn->registered = want;
  return true;
}

void IoThread::Close(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  // The registration goes before the fd: a reused fd number must not meet a stale watch.
  Ukevent ev = SocketEvent(it->second->fd(), id, KEVENT_SOCKET_RECV, kConnFlags);
  Status st;
  queue_->Ctl(KEVENT_CTL_REMOVE, &ev, nullptr, 1, &st);
  if (const uint64_t job = it->second->aio_job()) {
    // The pool holds duplicates of the socket and the file: they close when the job ends.
    FilePool().Cancel(job);
    aio_jobs_.erase(job);
  }
  it->second->Abandon(&outbox_, access_log_.get());
  conns_.erase(it);
  if (access_log_) access_log_->Forget(id);
  shared_.connections.fetch_sub(1, std::memory_order_relaxed);
  live_.fetch_sub(1, std::memory_order_relaxed);
}

void IoThread::Sweep() {
  next_sweep_ = ctx_.now + tick_ms_;
  std::vector<uint64_t> finished;
  for (auto& [id, conn] : conns_) {
    if (!conn->OnTick(ctx_) || !Sync(conn.get())) finished.push_back(id);
  }
  for (uint64_t id : finished) Close(id);
  if (!listening_ && !ctx_.draining && resume_accept_at_ >= 0 && ctx_.now >= resume_accept_at_ &&
      (!options_.max_connections || shared_.connections.load(std::memory_order_relaxed) < options_.max_connections)) {
    if (!reserve_.valid()) reserve_.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
    // Without the reserve back, fds are still short: stay paused a while longer. Still
    // ahead of the other threads: stay out until a later sweep.
    if (!reserve_.valid()) resume_accept_at_ = ctx_.now + kAcceptPauseMs;
    else if (!OverShare() && SetListening(true)) resume_accept_at_ = -1;
  }
}

}  // namespace kserver
