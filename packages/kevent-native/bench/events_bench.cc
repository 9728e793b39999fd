// Events per second, after Eric Dumazet's epoll_bench (LKML, 6 Nov 2006), which the kevent
// announcement's table came from: N connections, a niced writer thread putting 1 byte on a
// random one (yielding every few writes), a reader thread waiting for up to 1024 events and
// reading up to 1 KiB from each. One row per (transport, mechanism), measured in one run.
//
//   events_bench [--conns 2000] [--seconds 3] [--warmup 0.25] [--transports tcp,unix,pipe]
//                [--rows epoll,epoll-et,kevent,kevent-et,blocking] [--yield-every 8]
//                [--nice 10] [--json]
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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

struct Options {
  size_t conns = 2000;
  double seconds = 3;
  double warmup = 0.25;
  std::vector<Transport> transports{Transport::kTcp, Transport::kUnix, Transport::kPipe};
  std::vector<Mechanism> rows{Mechanism::kEpollLt, Mechanism::kEpollEt, Mechanism::kKeventLt, Mechanism::kKeventEt,
                              Mechanism::kBlocking};
  unsigned yield_every = 8;
  int nice = 10;
  int rounds = 1;
  bool pin = true;
  bool json = false;
};

struct Row {
  Transport transport;
  Mechanism mechanism;
  double events_per_sec;
  double writes_per_sec;
  double seconds;
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
    if (a == "--json" || a == "--no-pin") {
      (a == "--json" ? o->json : o->pin) = a == "--json";
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
    else if (a == "--transports") {
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

// epoll_bench's writer: niced below the reader so the reader keeps up, and yielding now and
// then so that on one CPU the reader still runs.
// Reader on CPU 0, writer on CPU 1: left to the scheduler, the two threads sometimes share a
// core and sometimes not, and the rate jumps between two regimes from row to row.
void PinTo(const Options& o, int cpu) {
  if (!o.pin) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    std::fprintf(stderr, "events_bench: sched_setaffinity: %s\n", std::strerror(errno));
}

void WriteRandomly(std::vector<Channel>& channels, const Options& o, const std::atomic<bool>& stop,
                   std::atomic<uint64_t>* writes) {
  // setpriority on a thread id renices only this thread (Linux); failure only skews the load.
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), o.nice) != 0)
    std::fprintf(stderr, "events_bench: setpriority: %s\n", std::strerror(errno));
  PinTo(o, 1);
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
    PinTo(o, 0);
    reader_status = reader->Run(stop, &reads); });
  std::thread writer_thread([&] { WriteRandomly(channels, o, stop, &writes); });

  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  const auto t0 = Clock::now();
  const uint64_t r0 = reads.load(), w0 = writes.load();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const uint64_t r1 = reads.load(), w1 = writes.load();
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
  return Status::Ok();
}

// kevent rows beside the epoll row of the same trigger mode, as the target is stated.
const Row* Baseline(const std::vector<Row>& rows, const Row& r) {
  Mechanism base;
  if (r.mechanism == Mechanism::kKeventLt) base = Mechanism::kEpollLt;
  else if (r.mechanism == Mechanism::kKeventEt) base = Mechanism::kEpollEt;
  else return nullptr;
  for (const Row& b : rows) {
    if (b.transport == r.transport && b.mechanism == base) return &b;
  }
  return nullptr;
}

void PrintTable(const std::vector<Row>& rows, const Options& o) {
  std::printf("events_bench: %zu connections, %.2f s per row, median of %d round(s), writer nice %d, yield every %u writes, %s\n\n",
              o.conns, o.seconds, o.rounds, o.nice, o.yield_every, o.pin ? "reader on CPU 0, writer on CPU 1" : "not pinned");
  std::printf("| transport | mechanism | events/s | vs epoll (same trigger) | writes/s |\n");
  std::printf("|---|---|---:|---:|---:|\n");
  for (const Row& r : rows) {
    char ratio[32] = "";
    if (const Row* b = Baseline(rows, r)) {
      if (b->events_per_sec > 0) std::snprintf(ratio, sizeof ratio, "%+.1f%%", 100 * (r.events_per_sec / b->events_per_sec - 1));
    }
    std::printf("| %s | %s | %.0f | %s | %.0f |\n", NameOf(r.transport), NameOf(r.mechanism), r.events_per_sec, ratio,
                r.writes_per_sec);
  }
}

void PrintJson(const std::vector<Row>& rows, const Options& o) {
  std::printf("{\"conns\":%zu,\"seconds\":%.3f,\"rounds\":%d,\"pinned\":%s,\"rows\":[", o.conns, o.seconds, o.rounds,
              o.pin ? "true" : "false");
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::printf("%s{\"transport\":\"%s\",\"mechanism\":\"%s\",\"eventsPerSec\":%.1f,\"writesPerSec\":%.1f,\"seconds\":%.3f}",
                i ? "," : "", NameOf(r.transport), NameOf(r.mechanism), r.events_per_sec, r.writes_per_sec, r.seconds);
  }
  std::printf("]}\n");
}

// The median of a row's rounds, so one round disturbed by the machine's other work does not
// decide the row.
Row Median(std::vector<Row> samples) {
  std::sort(samples.begin(), samples.end(),
            [](const Row& a, const Row& b) { return a.events_per_sec < b.events_per_sec; });
  return samples[samples.size() / 2];
}

int Fail(Transport t, const Status& s) {
  std::fprintf(stderr, "events_bench: %s (%s): %s%s%s\n", NameOf(t), s.op, std::strerror(s.err), s.detail ? ": " : "",
               s.detail ? s.detail : "");
  return 1;
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: events_bench [--conns N] [--seconds S] [--warmup S] [--rounds R] [--no-pin]\n"
                 "                    [--transports tcp,unix,pipe] [--rows epoll,epoll-et,kevent,kevent-et,blocking]\n"
                 "                    [--yield-every K] [--nice N] [--json]\n");
    return 2;
  }
  std::vector<std::vector<Channel>> channels(o.transports.size());
  for (size_t ti = 0; ti < o.transports.size(); ++ti) {
    Status s = OpenChannels(o.transports[ti], o.conns, &channels[ti]);
    if (!s.ok()) return Fail(o.transports[ti], s);
  }
  // Rounds interleave the rows, so a slow spell of the machine spreads over all of them.
  std::vector<std::vector<Row>> samples(o.transports.size() * o.rows.size());
  for (int round = 0; round < o.rounds; ++round) {
    for (size_t ti = 0; ti < o.transports.size(); ++ti) {
      for (size_t mi = 0; mi < o.rows.size(); ++mi) {
        Row row{};
        Status s = RunRow(o.transports[ti], o.rows[mi], channels[ti], o, &row);
        if (!s.ok()) return Fail(o.transports[ti], s);
        samples[ti * o.rows.size() + mi].push_back(row);
        std::fprintf(stderr, "  round %d  %-5s %-10s %10.0f events/s\n", round + 1, NameOf(row.transport),
                     NameOf(row.mechanism), row.events_per_sec);
      }
    }
  }
  std::vector<Row> rows;
  for (auto& sample : samples) rows.push_back(Median(sample));
  if (o.json) PrintJson(rows, o);
  else PrintTable(rows, o);
  return 0;
}

}  // namespace
}  // namespace events_bench

int main(int argc, char** argv) { return events_bench::Main(argc, argv); }
