// Stress of kevent::AioPool outside Node, for ThreadSanitizer (scripts/tsan-aio.sh): queues
// closed at random moments under parked, queued and running jobs, pool resizes meanwhile,
// peers that close, and the pool destroyed with a job parked. Exits non-zero when fds leak
// or a job is left behind; TSan reports races itself. Nothing here ignores SIGPIPE, so a
// pool thread that let one through would kill the process.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "aio_pool.h"
#include "queue.h"
#include "unique_fd.h"

using namespace kevent;

namespace {

int CountFds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}

int Fail(const char* what) {
  std::fprintf(stderr, "aio_cancel_stress: %s\n", what);
  return 1;
}

struct Loopback {
  UniqueFd listener;
  sockaddr_in addr{};
  bool Open() {
    listener.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    return listener.valid() && bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
           listen(listener.get(), 4096) == 0 && getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  }
  // A connected pair: the peer (client) and our non-blocking end.
  bool Pair(UniqueFd* peer, UniqueFd* ours) {
    peer->reset(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!peer->valid()) return false;
    connect(peer->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // EINPROGRESS: done by accept
    ours->reset(accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    return ours->valid();
  }
};

bool Submit(AioPool& pool, const std::shared_ptr<Queue>& queue, int sock, int file) {
  AioRequest r;
  r.queue = queue;
  r.sock_fd = sock;
  r.in_fd = file;
  uint64_t cookie;
  return pool.Submit(std::move(r), &cookie).ok();
}

}  // namespace

int main() {
  char name[] = "/tmp/aio-stress-XXXXXX";
  UniqueFd file(mkstemp(name));
  if (!file.valid()) return Fail("mkstemp");
  unlink(name);
  if (ftruncate(file.get(), 64 << 20) != 0) return Fail("ftruncate");  // sparse: never fits a socket buffer
  Loopback lo;
  if (!lo.Open()) return Fail("listen");
  auto pool = std::make_unique<AioPool>(2);
  if (!pool->Resize(2).ok()) return Fail("Resize");
  const int base = CountFds();
  for (int round = 0; round < 200; ++round) {
    Status st;
    std::shared_ptr<Queue> queue = Queue::Create(&st);
    if (!queue) return Fail("Queue::Create");
    std::vector<UniqueFd> silent_peers;  // never read: their jobs park
    for (int i = 0; i < 8; ++i) {
      UniqueFd peer, ours;
      if (!lo.Pair(&peer, &ours)) return Fail("connect");
      if (!Submit(*pool, queue, ours.get(), file.get())) return Fail("Submit");
      if (i % 2) peer.reset();  // gone: the job ends BROKEN (EPIPE/ECONNRESET)
      else silent_peers.push_back(std::move(peer));
    }
    if (round % 3 == 0 && !pool->Resize(1 + round % 4).ok()) return Fail("Resize");
    std::thread closer([&] {
      usleep(static_cast<useconds_t>(std::rand() % 2000));
      queue->Close();
    });
    closer.join();
    for (int spin = 0; pool->Stats().jobs != 0; ++spin) {
      if (spin > 100000) return Fail("jobs left after their queue closed");
      usleep(100);
    }
  }
  const AioStats s = pool->Stats();
  std::printf("completed %llu, cancelled %llu, parks %llu, fds %d -> %d\n", static_cast<unsigned long long>(s.completed),
              static_cast<unsigned long long>(s.cancelled), static_cast<unsigned long long>(s.parks), base, CountFds());
  if (s.completed + s.cancelled != 200 * 8) return Fail("a job neither completed nor was cancelled");
  if (CountFds() != base) return Fail("fd leak");

  // The pool goes away with a job parked: no completion, no crash, its fds closed.
  Status st;
  std::shared_ptr<Queue> queue = Queue::Create(&st);
  UniqueFd peer, ours;
  if (!queue || !lo.Pair(&peer, &ours) || !Submit(*pool, queue, ours.get(), file.get())) return Fail("last job");
  while (pool->Stats().parked == 0) usleep(100);
  pool.reset();
  ours.reset();
  peer.reset();
  queue.reset();
  // The pool's own poller queue (an epoll fd and an eventfd) went with it.
  if (CountFds() != base - 2) return Fail("fd leak after the pool was destroyed");
  std::puts("ok");
  return 0;
}
