// Events per second, after Eric Dumazet's epoll_bench (LKML, 6 Nov 2006), which the kevent
// announcement's table came from: N connections, a niced writer thread putting 1 byte on a
// random one (yielding every few writes), a reader thread waiting for up to 1024 events and
// reading up to 1 KiB from each. One row per (transport, mechanism), measured in one run.
//
//   events_bench [--conns 2000] [--seconds 3] [--warmup 0.25] [--rounds 1] [--placement same]
//                [--transports tcp,unix,pipe] [--rows epoll,kevent,epoll-et,kevent-et,blocking]
//                [--yield-every 8] [--nice 10] [--json]
//   events_bench --writer-fds 3-2002   (writer only, on inherited fds, until stdin closes)
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "readers.h"
#include "transports.h"

namespace events_bench {
namespace {

using kevent::Status;
using Clock = std::chrono::steady_clock;

// Where the two threads run. kSame is what the niced, yielding writer was designed for: the
// reader preempts it whenever an event is ready, so the backlog stays near one byte per
// connection and every event costs a wakeup. kSplit (a core each) turned out bistable here:
// a reader that falls behind reads bigger backlogs (an AF_UNIX 1 KiB read of 1-byte skbs is
// ~1000 skb frees) and stays behind, so rows jumped 10x between runs.
enum class Placement { kSame, kSplit, kNone };

struct Options {
  size_t conns = 2000;
  double seconds = 3;
  double warmup = 0.25;
  std::vector<Transport> transports{Transport::kTcp, Transport::kUnix, Transport::kPipe};
  // Each kevent row right after its epoll row: the machine drifts less between neighbours.
  std::vector<Mechanism> rows{Mechanism::kEpollLt, Mechanism::kKeventLt, Mechanism::kEpollEt, Mechanism::kKeventEt,
                              Mechanism::kBlocking};
  unsigned yield_every = 8;
  int nice = 10;
  int rounds = 1;
  Placement placement = Placement::kSame;
  bool json = false;
  int writer_first = -1;  // writer-only mode: inherited write ends writer_first..writer_last
  int writer_last = -1;
};

struct Row {
  Transport transport;
  Mechanism mechanism;
  double events_per_sec;
  double writes_per_sec;
  double seconds;
  double reader_ns = 0;  // reader thread CPU time per event: what the mechanism itself costs
  double vs_epoll = 0;   // kevent rows: median over rounds of (this / epoll of the same round) - 1
  double cpu_vs_epoll = 0;
  bool has_vs_epoll = false;
};

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--json") {
      o->json = true;
      continue;
    }
    if (!v) return false;
    ++i;
    if (a == "--conns") o->conns = std::strtoul(v, nullptr, 10);
    else if (a == "--seconds") o->seconds = std::atof(v);
    else if (a == "--warmup") o->warmup = std::atof(v);
    else if (a == "--yield-every") o->yield_every = static_cast<unsigned>(std::strtoul(v, nullptr, 10));
    else if (a == "--nice") o->nice = std::atoi(v);
    else if (a == "--rounds") o->rounds = std::atoi(v);
    else if (a == "--placement") {
      const std::string p = v;
      if (p == "same") o->placement = Placement::kSame;
      else if (p == "split") o->placement = Placement::kSplit;
      else if (p == "none") o->placement = Placement::kNone;
      else return false;
    } else if (a == "--writer-fds") {
      if (std::sscanf(v, "%d-%d", &o->writer_first, &o->writer_last) != 2 || o->writer_first < 3 ||
          o->writer_last < o->writer_first)
        return false;
    } else if (a == "--transports") {
      o->transports.clear();
      for (const std::string& n : SplitCommas(v)) {
        Transport t;
        if (!ParseTransport(n, &t)) return false;
        o->transports.push_back(t);
      }
    } else if (a == "--rows") {
      o->rows.clear();
      for (const std::string& n : SplitCommas(v)) {
        Mechanism m;
        if (!ParseMechanism(n, &m)) return false;
        o->rows.push_back(m);
      }
    } else {
      return false;
    }
  }
  return o->conns > 0 && o->seconds > 0 && o->warmup >= 0 && o->yield_every > 0 && o->rounds > 0 && !o->transports.empty() &&
         !o->rows.empty();
}

const char* NameOf(Placement p) {
  switch (p) {
    case Placement::kSame: return "reader and writer on CPU 0";
    case Placement::kSplit: return "reader on CPU 0, writer on CPU 1";
    case Placement::kNone: return "threads not pinned";
  }
  return "?";
}

void PinTo(const Options& o, bool writer) {
  if (o.placement == Placement::kNone) return;
  const int cpu = writer && o.placement == Placement::kSplit ? 1 : 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    std::fprintf(stderr, "events_bench: sched_setaffinity: %s\n", std::strerror(errno));
}

// epoll_bench's writer: niced below the reader so the reader keeps up, and yielding now and
// then so that on one CPU the reader still runs.
void WriteRandomly(std::vector<Channel>& channels, const Options& o, const std::atomic<bool>& stop,
                   std::atomic<uint64_t>* writes) {
  // setpriority on a thread id renices only this thread (Linux); failure only skews the load.
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), o.nice) != 0)
    std::fprintf(stderr, "events_bench: setpriority: %s\n", std::strerror(errno));
  PinTo(o, true);
  uint64_t x = 0x9e3779b97f4a7c15ull, count = 0;
  const char byte = 'x';
  while (!stop.load(std::memory_order_relaxed)) {
    for (unsigned k = 0; k < o.yield_every; ++k) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
      // EAGAIN (a full buffer) drops the byte: the reader is behind, which the count shows.
      if (::write(channels[x % channels.size()].write_end.get(), &byte, 1) == 1) ++count;
    }
    writes->store(count, std::memory_order_relaxed);
    sched_yield();
  }
}

// A blocking reader sits in read() on one connection: a byte on each lets it see `stop`.
void Unblock(std::vector<Channel>& channels) {
  const char byte = 'x';
  for (Channel& c : channels) {
    if (::write(c.write_end.get(), &byte, 1) != 1 && errno != EAGAIN) return;
  }
}

double ThreadCpuNs(clockid_t clock) {
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

Status RunRow(Transport t, Mechanism m, std::vector<Channel>& channels, const Options& o, Row* row) {
  const bool blocking = m == Mechanism::kBlocking;
  if (blocking) {
    Status s = SetReadBlocking(channels, true);
    if (!s.ok()) return s;
  }
  std::unique_ptr<Reader> reader;
  Status s = MakeReader(m, t, channels, &reader);
  if (!s.ok()) return s;

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, writes{0};
  Status reader_status;
  std::thread reader_thread([&] {
    PinTo(o, false);
    reader_status = reader->Run(stop, &reads);
  });
  std::thread writer_thread([&] { WriteRandomly(channels, o, stop, &writes); });

  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  // CPU time is less disturbed than throughput by the other tenants of a shared machine.
  clockid_t reader_clock;
  const int clock_err = pthread_getcpuclockid(reader_thread.native_handle(), &reader_clock);
  const auto t0 = Clock::now();
  const uint64_t r0 = reads.load(), w0 = writes.load();
  const double c0 = clock_err ? 0 : ThreadCpuNs(reader_clock);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const uint64_t r1 = reads.load(), w1 = writes.load();
  const double c1 = clock_err ? 0 : ThreadCpuNs(reader_clock);
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();

  stop.store(true);
  writer_thread.join();
  if (blocking) Unblock(channels);
  reader_thread.join();
  reader.reset();
  if (blocking) {
    Status u = SetReadBlocking(channels, false);
    if (!u.ok()) return u;
  }
  DrainAll(channels);
  if (!reader_status.ok()) return reader_status;
  *row = Row{t, m, (r1 - r0) / elapsed, (w1 - w0) / elapsed, elapsed};
  row->reader_ns = r1 > r0 ? (c1 - c0) / static_cast<double>(r1 - r0) : 0;
  return Status::Ok();
}

// kevent rows are compared with the epoll row of the same trigger mode, as the target is stated.
bool BaselineOf(Mechanism m, Mechanism* base) {
  if (m == Mechanism::kKeventLt) *base = Mechanism::kEpollLt;
  else if (m == Mechanism::kKeventEt) *base = Mechanism::kEpollEt;
  else return false;
  return true;
}

void PrintTable(const std::vector<Row>& rows, const Options& o) {
  std::printf("events_bench: %zu connections, %.2f s per row, median of %d round(s), writer nice %d, yield every %u writes, %s\n\n",
              o.conns, o.seconds, o.rounds, o.nice, o.yield_every, NameOf(o.placement));
  std::printf("| transport | mechanism | events/s | vs epoll (same trigger) | reader CPU ns/event | vs epoll | writes/s |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    char ratio[32] = "", cpu_ratio[32] = "";
    if (r.has_vs_epoll) {
      std::snprintf(ratio, sizeof ratio, "%+.1f%%", 100 * r.vs_epoll);
      std::snprintf(cpu_ratio, sizeof cpu_ratio, "%+.1f%%", 100 * r.cpu_vs_epoll);
    }
    std::printf("| %s | %s | %.0f | %s | %.0f | %s | %.0f |\n", NameOf(r.transport), NameOf(r.mechanism),
                r.events_per_sec, ratio, r.reader_ns, cpu_ratio, r.writes_per_sec);
  }
}

void PrintJson(const std::vector<Row>& rows, const Options& o) {
  std::printf("{\"conns\":%zu,\"seconds\":%.3f,\"rounds\":%d,\"placement\":\"%s\",\"rows\":[", o.conns, o.seconds,
              o.rounds, NameOf(o.placement));
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    char ratio[32] = "null", cpu_ratio[32] = "null";
    if (r.has_vs_epoll) {
      std::snprintf(ratio, sizeof ratio, "%.4f", r.vs_epoll);
      std::snprintf(cpu_ratio, sizeof cpu_ratio, "%.4f", r.cpu_vs_epoll);
    }
    std::printf("%s{\"transport\":\"%s\",\"mechanism\":\"%s\",\"eventsPerSec\":%.1f,\"writesPerSec\":%.1f,"
                "\"readerNsPerEvent\":%.1f,\"vsEpoll\":%s,\"cpuVsEpoll\":%s}",
                i ? "," : "", NameOf(r.transport), NameOf(r.mechanism), r.events_per_sec, r.writes_per_sec,
                r.reader_ns, ratio, cpu_ratio);
  }
  std::printf("]}\n");
}

// Medians over rounds, so one round disturbed by the machine's other work does not decide a
// row; ratios are taken within a round first, where both rows saw the same machine.
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::vector<Row> Summarise(const std::vector<std::vector<Row>>& samples, const Options& o) {
  std::vector<Row> rows;
  for (size_t ti = 0; ti < o.transports.size(); ++ti) {
    for (size_t mi = 0; mi < o.rows.size(); ++mi) {
      const std::vector<Row>& mine = samples[ti * o.rows.size() + mi];
      std::vector<double> events, writes, cpu;
      for (const Row& r : mine) {
        events.push_back(r.events_per_sec);
        writes.push_back(r.writes_per_sec);
        cpu.push_back(r.reader_ns);
      }
      Row row = mine.front();
      row.events_per_sec = Median(events);
      row.writes_per_sec = Median(writes);
      row.reader_ns = Median(cpu);
      Mechanism base;
      for (size_t bi = 0; BaselineOf(row.mechanism, &base) && bi < o.rows.size(); ++bi) {
        if (o.rows[bi] != base) continue;
        const std::vector<Row>& theirs = samples[ti * o.rows.size() + bi];
        std::vector<double> ratios, cpu_ratios;
        for (size_t r = 0; r < mine.size(); ++r) {
          if (theirs[r].events_per_sec <= 0 || theirs[r].reader_ns <= 0) continue;
          ratios.push_back(mine[r].events_per_sec / theirs[r].events_per_sec - 1);
          cpu_ratios.push_back(mine[r].reader_ns / theirs[r].reader_ns - 1);
        }
        if (!ratios.empty()) {
          row.vs_epoll = Median(ratios);
          row.cpu_vs_epoll = Median(cpu_ratios);
          row.has_vs_epoll = true;
        }
      }
      rows.push_back(row);
    }
  }
  return rows;
}

int Fail(Transport t, const Status& s) {
  std::fprintf(stderr, "events_bench: %s (%s): %s%s%s\n", NameOf(t), s.op, std::strerror(s.err), s.detail ? ": " : "",
               s.detail ? s.detail : "");
  return 1;
}

// Writer-only mode, for a reader in another process (bench/events-bench.mjs): the same writer
// on inherited fds until stdin closes, then {"writes":N,"seconds":T} on stdout.
int WriterOnly(const Options& o) {
  std::vector<Channel> channels;
  for (int fd = o.writer_first; fd <= o.writer_last; ++fd) channels.push_back(Channel{kevent::UniqueFd(), kevent::UniqueFd(fd)});
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> writes{0};
  const auto t0 = Clock::now();
  std::thread writer([&] { WriteRandomly(channels, o, stop, &writes); });
  char buf[64];
  ssize_t n;
  do n = ::read(0, buf, sizeof buf); while (n > 0 || (n < 0 && errno == EINTR));
  stop.store(true);
  writer.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("{\"writes\":%llu,\"seconds\":%.3f}\n", static_cast<unsigned long long>(writes.load()), elapsed);
  return 0;
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: events_bench [--conns N] [--seconds S] [--warmup S] [--rounds R] [--placement same|split|none]\n"
                 "                    [--transports tcp,unix,pipe] [--rows epoll,epoll-et,kevent,kevent-et,blocking]\n"
                 "                    [--yield-every K] [--nice N] [--json]\n"
                 "       events_bench --writer-fds FIRST-LAST [--yield-every K] [--nice N] [--placement P]\n");
    return 2;
  }
  if (o.writer_first >= 0) return WriterOnly(o);
  std::vector<std::vector<Channel>> channels(o.transports.size());
  for (size_t ti = 0; ti < o.transports.size(); ++ti) {
    Status s = OpenChannels(o.transports[ti], o.conns, &channels[ti]);
    if (!s.ok()) return Fail(o.transports[ti], s);
  }
  // Rounds interleave the rows, so a slow spell of the machine spreads over all of them.
  std::vector<std::vector<Row>> samples(o.transports.size() * o.rows.size());
  for (int round = 0; round < o.rounds; ++round) {
    for (size_t ti = 0; ti < o.transports.size(); ++ti) {
      for (size_t k = 0; k < o.rows.size(); ++k) {
        // Odd rounds run the rows backwards, so no row always runs first after a warm start.
        const size_t mi = round % 2 ? o.rows.size() - 1 - k : k;
        Row row{};
        Status s = RunRow(o.transports[ti], o.rows[mi], channels[ti], o, &row);
        if (!s.ok()) return Fail(o.transports[ti], s);
        samples[ti * o.rows.size() + mi].push_back(row);
        std::fprintf(stderr, "  round %d  %-5s %-10s %10.0f events/s\n", round + 1, NameOf(row.transport),
                     NameOf(row.mechanism), row.events_per_sec);
      }
    }
  }
  const std::vector<Row> rows = Summarise(samples, o);
  if (o.json) PrintJson(rows, o);
  else PrintTable(rows, o);
  return 0;
}

}  // namespace
}  // namespace events_bench

int main(int argc, char** argv) { return events_bench::Main(argc, argv); }
