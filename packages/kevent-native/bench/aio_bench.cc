// aio_sendfile vs a plain blocking sendfile loop: one file over loopback TCP to readers
// that read as fast as they can. For each stream count the two modes alternate round by
// round, so both see the same machine load. Prints one JSON line per (mode, streams).
//
//   aio_bench [--mib 10] [--rounds 10] [--streams 1,8,64] [--threads 0]
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "aio_pool.h"
#include "queue.h"
#include "unique_fd.h"

using kevent::UniqueFd;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "aio_bench: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

UniqueFd MakeFile(size_t bytes) {
  char name[] = "/tmp/aio-bench-XXXXXX";
  UniqueFd fd(mkstemp(name));
  if (!fd.valid()) Die("mkstemp");
  unlink(name);
  std::vector<char> block(1 << 20);
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 131 + 7);
  for (size_t done = 0; done < bytes;) {
    const ssize_t n = write(fd.get(), block.data(), std::min(block.size(), bytes - done));
    if (n <= 0) Die("write");
    done += static_cast<size_t>(n);
  }
  return fd;  // just written: in the page cache, as a hot static file would be
}

struct Pair {
  UniqueFd sender;
  UniqueFd reader;
};

Pair Connect(int listen_fd, const sockaddr_in& addr, bool sender_nonblocking) {
  Pair p;
  p.reader.reset(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!p.reader.valid()) Die("socket");
  if (connect(p.reader.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS)
    Die("connect");
  p.sender.reset(accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | (sender_nonblocking ? SOCK_NONBLOCK : 0)));
  if (!p.sender.valid()) Die("accept4");
  return p;
}

// Reads every reader socket to `expected` bytes on one thread (the same for both modes).
void ReadAll(std::vector<Pair>& pairs, size_t expected) {
  UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
  if (!ep.valid()) Die("epoll_create1");
  std::vector<size_t> got(pairs.size(), 0);
  for (size_t i = 0; i < pairs.size(); ++i) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u64 = i;
    if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, pairs[i].reader.get(), &e) != 0) Die("epoll_ctl");
  }
  std::vector<char> buf(1 << 20);
  size_t open = pairs.size();
  epoll_event events[64];
  while (open > 0) {
    const int n = epoll_wait(ep.get(), events, 64, -1);
    if (n < 0 && errno != EINTR) Die("epoll_wait");
    for (int k = 0; k < n; ++k) {
      const size_t i = events[k].data.u64;
      for (;;) {
        const ssize_t r = read(pairs[i].reader.get(), buf.data(), buf.size());
        if (r > 0) {
          got[i] += static_cast<size_t>(r);
          continue;
        }
        if (r < 0 && errno == EAGAIN) break;
        if (r < 0 && errno == EINTR) continue;
        Die("read (stream ended early)");
      }
      if (got[i] == expected) {
        epoll_ctl(ep.get(), EPOLL_CTL_DEL, pairs[i].reader.get(), nullptr);
        --open;
      }
    }
  }
}

void BlockingSend(int sock, int file, size_t bytes) {
  off_t off = 0;
  while (static_cast<size_t>(off) < bytes) {
    const ssize_t n = sendfile(sock, file, &off, bytes - static_cast<size_t>(off));
    if (n < 0 && errno != EINTR) Die("sendfile");
  }
}

struct Totals {
  double seconds = 0;
  double cpu_seconds = 0;
  double busy_sum = 0;
  uint64_t busy_samples = 0;
  uint32_t busy_max = 0;
  uint64_t parks = 0;
};

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void RunRound(bool aio, size_t streams, int file, size_t bytes, int lfd, const sockaddr_in& addr, kevent::AioPool& pool,
              Totals* t) {
  std::vector<Pair> pairs;
  for (size_t i = 0; i < streams; ++i) pairs.push_back(Connect(lfd, addr, aio));
  kevent::Status st;
  auto queue = kevent::Queue::Create(&st);
  if (!queue) Die("Queue::Create");
  const uint64_t parks_before = pool.Stats().parks;
  const double cpu0 = CpuSeconds();
  const auto t0 = Clock::now();
  std::thread reader([&] { ReadAll(pairs, bytes); });
  std::atomic<bool> sampling{aio};
  std::thread sampler;
  std::vector<std::thread> senders;
  if (aio) {
    sampler = std::thread([&] {
      while (sampling.load()) {
        const uint32_t busy = pool.Stats().busy;
        t->busy_sum += busy;
        t->busy_samples++;
        t->busy_max = std::max(t->busy_max, busy);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    for (Pair& p : pairs) {
      kevent::AioRequest r;
      r.queue = queue;
      r.sock_fd = p.sender.get();
      r.in_fd = file;
      r.count = bytes;
      uint64_t cookie;
      if (!pool.Submit(std::move(r), &cookie).ok()) Die("Submit");
    }
    std::vector<kevent::Ukevent> done;
    while (done.size() < streams) {
      if (queue->GetEvents(1, streams, -1, 0, &done, &st) < 0) Die("GetEvents");
    }
    for (const kevent::Ukevent& ev : done)
      if (ev.ret_flags & kevent::KEVENT_RET_BROKEN || ev.ret_data != bytes) Die("aio completion");
  } else {
    // The plain way: one thread per stream, each asleep in sendfile while the socket is full.
    for (Pair& p : pairs) senders.emplace_back([&, sock = p.sender.get()] { BlockingSend(sock, file, bytes); });
    for (std::thread& s : senders) s.join();
  }
  reader.join();
  t->seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  t->cpu_seconds += CpuSeconds() - cpu0;
  sampling = false;
  if (sampler.joinable()) sampler.join();
  t->parks += pool.Stats().parks - parks_before;
}

std::vector<size_t> ParseList(const char* s) {
  std::vector<size_t> out;
  for (const char* p = s; *p;) {
    out.push_back(std::strtoul(p, const_cast<char**>(&p), 10));
    if (*p == ',') ++p;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 10, rounds = 10;
  unsigned threads = 0;
  std::vector<size_t> stream_counts = {1, 8, 64};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--mib") mib = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--rounds") rounds = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--streams") stream_counts = ParseList(argv[i + 1]);
    else if (flag == "--threads") threads = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    else {
      std::fprintf(stderr, "usage: aio_bench [--mib N] [--rounds N] [--streams 1,8,64] [--threads N]\n");
      return 2;
    }
  }
  const size_t bytes = mib << 20;
  UniqueFd file = MakeFile(bytes);
  UniqueFd lfd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (!lfd.valid() || bind(lfd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(lfd.get(), 4096) != 0 || getsockname(lfd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    Die("listen");
  kevent::AioPool pool(threads);
  if (!pool.Resize(threads).ok()) Die("Resize");
  for (size_t streams : stream_counts) {
    Totals blocking, aio;
    for (size_t r = 0; r < rounds; ++r) {
      RunRound(false, streams, file.get(), bytes, lfd.get(), addr, pool, &blocking);
      RunRound(true, streams, file.get(), bytes, lfd.get(), addr, pool, &aio);
    }
    const double mib_total = static_cast<double>(bytes * streams * rounds) / (1 << 20);
    auto print = [&](const char* mode, const Totals& t, size_t sender_threads) {
      std::printf(
          "{\"mode\":\"%s\",\"streams\":%zu,\"fileMiB\":%zu,\"rounds\":%zu,\"MiBps\":%.0f,\"MiBperCpuSec\":%.0f,"
          "\"senderThreads\":%zu,\"busyAvg\":%.2f,\"busyMax\":%u,\"parks\":%llu}\n",
          mode, streams, mib, rounds, mib_total / t.seconds, mib_total / t.cpu_seconds, sender_threads,
          t.busy_samples ? t.busy_sum / t.busy_samples : 0.0, t.busy_max, static_cast<unsigned long long>(t.parks));
    };
    print("blocking", blocking, streams);
    print("aio", aio, pool.Stats().threads);
    std::fflush(stdout);
  }
  return 0;
}
