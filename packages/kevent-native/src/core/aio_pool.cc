#include "aio_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>

#include "unique_fd.h"

namespace kevent {
namespace {

// One sendfile call moves at most this much: a non-blocking socket takes what fits anyway,
// and between calls the job notices that its queue closed.
constexpr uint64_t kChunk = 2u << 20;
// Bytes a job sends before it goes to the back of the run queue, so one fast reader cannot
// hold a thread while other jobs wait.
constexpr uint64_t kSlice = 16u << 20;
// Reads are requested this far ahead of what sendfile is sending.
constexpr uint64_t kWindow = 2u << 20;
constexpr unsigned kMaxThreads = 1024;

UniqueFd Dup(int fd, int* err) {
  UniqueFd out(fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!out.valid()) *err = fd < 0 ? EBADF : errno;
  return out;
}

// sendfile has no MSG_NOSIGNAL: writing to a reset connection raises SIGPIPE at the writing
// thread, which kills a process that does not ignore it (Node does; other embedders of the
// core may not). Pool threads keep it blocked and take the pending signal back after EPIPE.
void BlockSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // fails only for an invalid `how`
}

void DrainSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  const timespec zero{};
  while (sigtimedwait(&set, nullptr, &zero) == SIGPIPE) {
  }  // EAGAIN: none pending (the process ignores SIGPIPE, or it went elsewhere)
}

}  // namespace

struct AioPool::Job {
  enum class State { kQueued, kRunning, kParked };

  uint64_t id = 0;  // the cookie
  std::shared_ptr<Queue> queue;
  uint64_t listener = 0;
  uint64_t sock_id = 0;  // the caller's socket fd, reported as the event's id
  // Our own duplicates: the caller may close its fds while the job runs.
  UniqueFd sock;
  UniqueFd file;
  std::string path;
  std::string header;
  size_t header_sent = 0;
  uint64_t pos = 0;         // next file offset to send
  uint64_t count = 0;       // as requested; 0 = to end of file
  uint64_t end = 0;         // file offset to stop at, once `sized`
  bool sized = false;
  uint64_t prefetched = 0;  // reads have been requested up to this offset
  uint64_t sent = 0;        // file bytes sent
  int err = 0;              // set: the job ends BROKEN with this errno
  State state = State::kQueued;
  std::atomic<bool> cancelled{false};  // set under mu_, read by the worker between chunks
};

AioPool::AioPool(unsigned threads) : target_threads_(threads ? threads : DefaultThreads()) {}

AioPool::~AioPool() {
  StopWorkers();
  std::unordered_map<uint64_t, std::unique_ptr<Job>> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (park_queue_) park_queue_->Close();  // drops every parked job's SEND request
    jobs.swap(jobs_);
    runnable_.clear();
  }
  if (poller_.joinable()) poller_.join();
  // Outside mu_: a close listener that is running right now takes mu_ inside Cancel.
  for (auto& entry : jobs) entry.second->queue->RemoveCloseListener(entry.second->listener);
}

unsigned AioPool::DefaultThreads() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp(cores * 2, 4u, 64u);
}

Status AioPool::StartLocked() {
  if (started_) return Status::Ok();
  Status s;
  park_queue_ = Queue::Create(&s);
  if (!park_queue_) return s;
  poller_ = std::thread([this] { PollerLoop(); });
  for (unsigned i = 0; i < target_threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  started_ = true;
  return Status::Ok();
}

void AioPool::StopWorkers() {
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_workers_ = true;
    workers.swap(workers_);
  }
  work_cv_.notify_all();
  for (std::thread& t : workers) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  stop_workers_ = false;
}

Status AioPool::Resize(unsigned threads) {
  if (threads > kMaxThreads) return Status::Errno(EINVAL, "aio_configure", "threads must be at most 1024");
  std::lock_guard<std::mutex> resize(resize_mu_);
  for (;;) {
    StopWorkers();
    std::lock_guard<std::mutex> lock(mu_);
    if (!workers_.empty()) continue;  // a first Submit started the pool in between: stop those too
    target_threads_ = threads ? threads : DefaultThreads();
    if (!started_) return StartLocked();
    for (unsigned i = 0; i < target_threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
    return Status::Ok();
  }
}

AioStats AioPool::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  AioStats st;
  st.threads = static_cast<uint32_t>(workers_.size());
  st.busy = busy_;
  st.jobs = live_;
  st.queued = runnable_.size();
  st.parked = parked_;
  st.completed = completed_;
  st.cancelled = cancelled_;
  st.parks = parks_;
  return st;
}

Status AioPool::Submit(AioRequest request, uint64_t* cookie) {
  if (!request.queue || request.queue->closed()) return Status::Errno(EBADF, "aio_sendfile", "queue is closed");
  if (request.offset > static_cast<uint64_t>(INT64_MAX))
    return Status::Errno(EINVAL, "aio_sendfile", "offset must be below 2^63");
  auto job = std::make_unique<Job>();
  job->queue = std::move(request.queue);
  job->sock_id = static_cast<uint64_t>(request.sock_fd);
  job->header = std::move(request.header);
  job->path = std::move(request.path);
  job->pos = request.offset;
  job->count = request.count;
  // A bad fd is reported like every other transfer failure: as a BROKEN completion.
  job->sock = Dup(request.sock_fd, &job->err);
  if (!job->err && job->path.empty()) job->file = Dup(request.in_fd, &job->err);

  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Status s = StartLocked();
    if (!s.ok()) return s;
    id = next_id_++;
  }
  job->id = id;
  // Taken outside mu_: Queue::Close runs listeners under its own lock and they take mu_.
  job->listener = job->queue->AddCloseListener([this, id] { Cancel(id); });
  if (job->listener == 0) return Status::Errno(EBADF, "aio_sendfile", "queue is closed");
  {
    std::lock_guard<std::mutex> lock(mu_);
    Job* raw = job.get();
    jobs_.emplace(id, std::move(job));
    runnable_.push_back(raw);
    ++live_;
  }
  work_cv_.notify_one();
  *cookie = id;
  return Status::Ok();
}

void AioPool::WorkerLoop() {
  BlockSigpipe();
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stop_workers_ || !runnable_.empty(); });
    if (stop_workers_) return;
    Job* job = runnable_.front();
    runnable_.pop_front();
    job->state = Job::State::kRunning;
    ++busy_;
    lock.unlock();
    const Outcome outcome = Step(*job);
    lock.lock();
    --busy_;
    if (outcome == Outcome::kPark) {
      ParkLocked(job);
    } else if (outcome == Outcome::kYield) {
      RequeueLocked(job);
    } else {
      lock.unlock();
      Finish(job, outcome);
      lock.lock();
    }
  }
}

void AioPool::RequeueLocked(Job* job) {
  job->state = Job::State::kQueued;
  runnable_.push_back(job);
  work_cv_.notify_one();
}

AioPool::Outcome AioPool::Step(Job& job) {
  if (job.cancelled.load(std::memory_order_relaxed) || job.queue->closed()) return Outcome::kCancelled;
  if (job.err) return Outcome::kBroken;
  if (!job.file.valid()) {
    // On the pool, not the caller's thread: open may wait on the disk or a network mount.
    // O_NONBLOCK: a FIFO with no writer would otherwise hold this thread until one comes; it
    // changes nothing for a regular file.
    int fd;
    do fd = ::open(job.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK); while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      job.err = errno;
      return Outcome::kBroken;
    }
    job.file.reset(fd);
  }
  if (!job.sized) {
    struct stat sock_st {}, file_st {};
    if (fstat(job.sock.get(), &sock_st) != 0 || fstat(job.file.get(), &file_st) != 0) {
      job.err = errno;
      return Outcome::kBroken;
    }
    // Parking waits for socket readiness, which only a socket has; sendfile reads only
    // from files with a page cache (a pipe gives EINVAL or ESPIPE).
    if (!S_ISSOCK(sock_st.st_mode)) job.err = ENOTSOCK;
    else if (S_ISDIR(file_st.st_mode)) job.err = EISDIR;
    else if (!S_ISREG(file_st.st_mode)) job.err = EINVAL;
    if (job.err) return Outcome::kBroken;
    // A range past the end of the file sends what exists.
    const uint64_t size = static_cast<uint64_t>(file_st.st_size);
    uint64_t end = size;
    if (job.count != 0 && job.count <= UINT64_MAX - job.pos) end = std::min(end, job.pos + job.count);
    job.end = std::max(job.pos, end);
    job.prefetched = job.pos;
    job.sized = true;
    Prefetch(job);  // the first window's reads overlap the header going out
  }
  const Outcome header = SendHeader(job);
  if (header != Outcome::kDone) return header;
  return SendFile(job);
}

AioPool::Outcome AioPool::SendHeader(Job& job) {
  while (job.header_sent < job.header.size()) {
    // MSG_MORE: the header shares its last segment with the file's first bytes.
    const int more = job.pos < job.end ? MSG_MORE : 0;
    const ssize_t n = ::send(job.sock.get(), job.header.data() + job.header_sent, job.header.size() - job.header_sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT | more);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Outcome::kPark;
      job.err = errno;
      return Outcome::kBroken;
    }
    job.header_sent += static_cast<size_t>(n);
  }
  return Outcome::kDone;
}

AioPool::Outcome AioPool::SendFile(Job& job) {
  uint64_t budget = kSlice;
  while (job.pos < job.end) {
    Prefetch(job);
    off_t off = static_cast<off_t>(job.pos);
    const ssize_t n = ::sendfile(job.sock.get(), job.file.get(), &off, std::min(job.end - job.pos, kChunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Outcome::kPark;
      job.err = errno;
      if (job.err == EPIPE) DrainSigpipe();
      return Outcome::kBroken;
    }
    if (n == 0) break;  // the file shrank since fstat: report what was sent
    job.pos += static_cast<uint64_t>(n);
    job.sent += static_cast<uint64_t>(n);
    if (job.cancelled.load(std::memory_order_relaxed) || job.queue->closed()) return Outcome::kCancelled;
    if (static_cast<uint64_t>(n) >= budget) return Outcome::kYield;
    budget -= static_cast<uint64_t>(n);
  }
  return Outcome::kDone;
}

// The seed's "asynchronously populates pages into the VFS cache": the reads for the next
// window are started before sendfile needs them, so disk and network overlap and sendfile
// rarely waits for a page that was never asked for.
void AioPool::Prefetch(Job& job) {
  if (job.prefetched >= std::min(job.end, job.pos + kWindow)) return;
  const uint64_t from = std::max(job.prefetched, job.pos);
  const uint64_t to = std::min(job.end, job.pos + 2 * kWindow);
  // Advisory only: a failure (EINVAL on a file system without readahead) changes nothing.
  (void)::readahead(job.file.get(), static_cast<off64_t>(from), static_cast<size_t>(to - from));
  job.prefetched = to;
}

void AioPool::ParkLocked(Job* job) {
  if (job->cancelled) return RequeueLocked(job);
  // ALWAYS_QUEUE: the socket may have drained since EAGAIN; without it a ready socket would
  // come straight back from ctl unregistered. ONESHOT: one wake per park, and the core
  // drops the request (and its epoll entry) when it fires, before our fd can close.
  Ukevent req;
  req.type = KEVENT_SOCKET;
  req.id = static_cast<uint64_t>(job->sock.get());
  req.event = KEVENT_SOCKET_SEND;
  req.req_flags = KEVENT_REQ_ONESHOT | KEVENT_REQ_ALWAYS_QUEUE;
  req.user = job->id;
  Status s;
  park_queue_->Ctl(KEVENT_CTL_ADD, &req, nullptr, 1, &s);
  if (!s.ok() || (req.ret_flags & KEVENT_RET_BROKEN)) {
    job->err = s.ok() ? static_cast<int>(req.err) : s.err;
    return RequeueLocked(job);
  }
  job->state = Job::State::kParked;
  ++parked_;
  ++parks_;
}

void AioPool::PollerLoop() {
  std::vector<Ukevent> ready;
  for (;;) {
    ready.clear();
    Status s;
    if (park_queue_->GetEvents(1, 256, -1, 0, &ready, &s) < 0) {
      if (park_queue_->closed()) return;  // the pool is going away
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (const Ukevent& ev : ready) {
      auto it = jobs_.find(ev.user);
      // Not parked any more: Cancel already removed its request and requeued it.
      if (it == jobs_.end() || it->second->state != Job::State::kParked) continue;
      --parked_;
      RequeueLocked(it->second.get());
    }
  }
}

void AioPool::Cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Job* job = it->second.get();
  job->cancelled.store(true, std::memory_order_relaxed);
  if (job->state != Job::State::kParked) return;  // a worker sees the flag at its next chunk
  // The request must leave epoll before the job's fd closes; ENOENT means the poller has
  // its event already and will find the job no longer parked.
  Ukevent req;
  req.type = KEVENT_SOCKET;
  req.id = static_cast<uint64_t>(job->sock.get());
  req.user = job->id;
  Status s;
  park_queue_->Ctl(KEVENT_CTL_REMOVE, &req, nullptr, 1, &s);
  --parked_;
  RequeueLocked(job);  // a worker ends it: Finish must not run inside a close listener
}

void AioPool::Finish(Job* job, Outcome outcome) {
  std::unique_ptr<Job> owned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job->id);
    owned = std::move(it->second);
    jobs_.erase(it);  // from here Cancel cannot find it
  }
  owned->queue->RemoveCloseListener(owned->listener);
  // Closed before the completion is posted: whoever sees it may rely on the job holding
  // none of its fds (a close() of the caller's socket then really ends the connection).
  owned->sock.reset();
  owned->file.reset();
  bool posted = false;
  if (outcome == Outcome::kDone || outcome == Outcome::kBroken) {
    Ukevent ev;
    ev.id = owned->sock_id;
    ev.type = KEVENT_AIO;
    ev.event = KEVENT_AIO_BIO;
    ev.ret_flags = KEVENT_RET_DONE | (outcome == Outcome::kBroken ? KEVENT_RET_BROKEN : 0);
    ev.ret_data = owned->sent;
    ev.user = owned->id;
    ev.err = static_cast<uint32_t>(owned->err);
    posted = owned->queue->Post(ev);  // false: the queue closed meanwhile, nobody to tell
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (posted) ++completed_;
    else ++cancelled_;
    --live_;
  }
  // `owned` may drop the last reference to the queue here, outside mu_.
}

}  // namespace kevent
