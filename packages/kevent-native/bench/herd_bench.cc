// The thundering-herd demonstration (issue 5; the seed's KEVENT_REQ_WAKEUP_ALL discussion):
// 1..N threads accept from one port four ways, at a paced low connection rate and with
// clients connecting as fast as they can. Per run: the kernel's count of voluntary context
// switches of the accepting threads per connection (a thread woken for a connection another
// took sleeps again inside epoll_wait without returning, so only the kernel's count sees the
// herd), accepts that found nothing per connection, and the busiest thread's share.
// A last set of runs stalls one thread: wake-one routes around it, reuseport does not.
//
//   herd_bench [--threads 1,2,4,8] [--modes wake-one,wake-all,reuseport,accept]
//              [--seconds 1] [--low-rate 1000] [--clients 2] [--no-stall]
//              [--server-cpus 0] [--client-cpus 1] [--json]
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "herd_acceptors.h"

namespace herd_bench {
namespace {

using kevent::Status;
using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<size_t> threads{1, 2, 4, 8};
  std::vector<Mode> modes{Mode::kWakeOne, Mode::kWakeAll, Mode::kReusePort, Mode::kAccept};
  double seconds = 1;
  double low_rate = 1000;
  size_t clients = 2;
  bool stall = true;
  std::vector<int> server_cpus, client_cpus;
  bool json = false;
};

enum class Load { kLow, kSaturating };

struct Row {
  Mode mode;
  size_t threads;
  Load load;
  size_t stalled;
  uint64_t connected = 0, accepted = 0, connect_errors = 0;
  double seconds = 0;
  double switches_per_conn = 0, eagain_per_conn = 0, busiest_share = 0;
  std::vector<uint64_t> per_thread;
  bool failed = false;
};

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") { o->json = true; continue; }
    if (a == "--no-stall") { o->stall = false; continue; }
    const char* v = i + 1 < argc ? argv[++i] : nullptr;
    if (!v) return false;
    if (a == "--seconds") o->seconds = std::atof(v);
    else if (a == "--low-rate") o->low_rate = std::atof(v);
    else if (a == "--clients") o->clients = std::strtoul(v, nullptr, 10);
    else if (a == "--threads" || a == "--server-cpus" || a == "--client-cpus") {
      std::vector<size_t> nums;
      for (const std::string& p : SplitCommas(v)) nums.push_back(std::strtoul(p.c_str(), nullptr, 10));
      if (a == "--threads") o->threads = nums;
      else (a == "--server-cpus" ? o->server_cpus : o->client_cpus).assign(nums.begin(), nums.end());
    } else if (a == "--modes") {
      o->modes.clear();
      for (const std::string& p : SplitCommas(v)) {
        Mode m;
        if (!ParseMode(p.c_str(), &m)) return false;
        o->modes.push_back(m);
      }
    } else {
      return false;
    }
  }
  return !o->threads.empty() && !o->modes.empty() && o->seconds > 0 && o->low_rate > 0 && o->clients > 0 &&
         std::find(o->threads.begin(), o->threads.end(), 0) == o->threads.end();
}

// Servers on the first half of the cores, clients on the second (both on CPU 0 with one core).
void DefaultCpus(Options* o) {
  const long n = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  const long half = std::max(1L, n / 2);
  if (o->server_cpus.empty())
    for (long c = 0; c < half; ++c) o->server_cpus.push_back(static_cast<int>(c));
  if (o->client_cpus.empty())
    for (long c = n > 1 ? half : 0; c < n; ++c) o->client_cpus.push_back(static_cast<int>(c));
}

// -1 when the thread's status cannot be read (it has exited).
long VoluntarySwitches(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::strtol(line.c_str() + 24, nullptr, 10);
  return -1;
}

// One client: connect and close, paced to `rate` per second (0: as fast as it can), until
// `until`. The server resets each connection, so no TIME_WAIT piles up on either side.
void Connect(uint16_t port, double rate, Clock::time_point until, std::atomic<uint64_t>* ok,
             std::atomic<uint64_t>* errors) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const auto start = Clock::now();
  for (uint64_t i = 0;; ++i) {
    if (rate > 0) std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate)));
    if (Clock::now() >= until) return;
    kevent::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (errors->fetch_add(1) == 0) std::fprintf(stderr, "herd_bench: connect: %s\n", std::strerror(errno));
      continue;
    }
    ok->fetch_add(1, std::memory_order_relaxed);
  }
}

Status RunOne(const Options& o, Mode mode, size_t threads, Load load, size_t stalled, Row* row) {
  *row = Row{mode, threads, load, stalled};
  AcceptorSet set(mode, threads, stalled, o.server_cpus);
  Status s = set.Start();
  if (!s.ok()) return s;
  // Let every thread park in its wait: one still on its way in would miss the first wakeups.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<long> before;
  for (const auto& a : set.acceptors()) before.push_back(VoluntarySwitches(a->tid.load()));

  std::atomic<uint64_t> connected{0}, errors{0};
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  const size_t clients = load == Load::kLow ? 1 : o.clients;
  std::vector<std::thread> cs;
  for (size_t i = 0; i < clients; ++i)
    cs.emplace_back([&] { Connect(set.port(), load == Load::kLow ? o.low_rate : 0, until, &connected, &errors); });
  for (auto& t : cs) t.join();
  row->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  // Wait for the backlog to drain; with a stalled thread under reuseport it never does.
  const auto drain_until = Clock::now() + std::chrono::milliseconds(stalled ? 300 : 5000);
  while (set.TotalAccepted() < connected.load() && Clock::now() < drain_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));

  long switches = 0;
  uint64_t eagain = 0, busiest = 0;
  for (size_t i = 0; i < set.acceptors().size(); ++i) {
    const Acceptor& a = *set.acceptors()[i];
    const long after = VoluntarySwitches(a.tid.load());
    if (!a.stalled && after >= 0 && before[i] >= 0) switches += after - before[i];
    eagain += a.eagain.load();
    busiest = std::max<uint64_t>(busiest, a.accepted.load());
    row->per_thread.push_back(a.accepted.load());
    row->failed |= a.failed.load();
  }
  row->accepted = set.TotalAccepted();
  set.Stop();
  row->connected = connected.load();
  row->connect_errors = errors.load();
  const double n = static_cast<double>(std::max<uint64_t>(1, row->accepted));
  row->switches_per_conn = switches / n;
  row->eagain_per_conn = eagain / n;
  row->busiest_share = busiest / n;
  return Status::Ok();
}

const char* NameOf(Load l) { return l == Load::kLow ? "low" : "saturating"; }

void PrintTable(const std::vector<Row>& rows, const Options& o) {
  std::printf("herd_bench: %.1f s per run, low rate %.0f conn/s, %zu saturating clients\n", o.seconds, o.low_rate,
              o.clients);
  std::printf("%-10s %-10s %7s %7s %9s %10s %9s %8s %9s\n", "load", "mode", "threads", "stalled", "conn/s",
              "switch/conn", "EAGAIN/c", "busiest", "unaccepted");
  for (const Row& r : rows)
    std::printf("%-10s %-10s %7zu %7zu %9.0f %10.2f %9.2f %7.0f%% %9llu%s\n", NameOf(r.load), NameOf(r.mode), r.threads,
                r.stalled, r.connected / r.seconds, r.switches_per_conn, r.eagain_per_conn, 100 * r.busiest_share,
                static_cast<unsigned long long>(r.connected - std::min(r.connected, r.accepted)),
                r.failed ? "  (accept failed)" : "");
}

std::string JoinInts(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

void PrintJson(const std::vector<Row>& rows, const Options& o) {
  std::printf("{\"seconds\":%.3f,\"lowRate\":%.1f,\"clients\":%zu,\"serverCpus\":[%s],\"clientCpus\":[%s],\"rows\":[",
              o.seconds, o.low_rate, o.clients, JoinInts(o.server_cpus).c_str(), JoinInts(o.client_cpus).c_str());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::string per;
    for (size_t t = 0; t < r.per_thread.size(); ++t) per += (t ? "," : "") + std::to_string(r.per_thread[t]);
    std::printf("%s{\"load\":\"%s\",\"mode\":\"%s\",\"threads\":%zu,\"stalled\":%zu,\"connected\":%llu,"
                "\"accepted\":%llu,\"connectErrors\":%llu,\"seconds\":%.3f,\"connPerSec\":%.1f,"
                "\"switchesPerConn\":%.4f,\"eagainPerConn\":%.4f,\"busiestShare\":%.4f,\"perThread\":[%s],"
                "\"failed\":%s}",
                i ? "," : "", NameOf(r.load), NameOf(r.mode), r.threads, r.stalled,
                static_cast<unsigned long long>(r.connected), static_cast<unsigned long long>(r.accepted),
                static_cast<unsigned long long>(r.connect_errors), r.seconds, r.connected / r.seconds,
                r.switches_per_conn, r.eagain_per_conn, r.busiest_share, per.c_str(), r.failed ? "true" : "false");
  }
  std::printf("]}\n");
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: herd_bench [--threads 1,2,4,8] [--modes wake-one,wake-all,reuseport,accept] [--seconds S]\n"
                 "                  [--low-rate CONN_PER_SEC] [--clients N] [--no-stall] [--server-cpus LIST]\n"
                 "                  [--client-cpus LIST] [--json]\n");
    return 2;
  }
  DefaultCpus(&o);
  PinTo(o.client_cpus);  // the main thread and the clients: threads inherit the affinity
  std::vector<Row> rows;
  auto run = [&](Mode m, size_t threads, Load load, size_t stalled) {
    Row row;
    Status s = RunOne(o, m, threads, load, stalled, &row);
    if (!s.ok()) {
      std::fprintf(stderr, "herd_bench: %s: %s\n", s.op, std::strerror(s.err));
      return false;
    }
    std::fprintf(stderr, "  %-10s %-10s %zu threads%s: %.2f switches/conn\n", NameOf(load), NameOf(m), threads,
                 stalled ? " (1 stalled)" : "", row.switches_per_conn);
    rows.push_back(row);
    return true;
  };
  for (Load load : {Load::kLow, Load::kSaturating})
    for (size_t threads : o.threads)
      for (Mode m : o.modes)
        if (!run(m, threads, load, 0)) return 1;
  const size_t most = *std::max_element(o.threads.begin(), o.threads.end());
  if (o.stall && most > 1)
    for (Mode m : o.modes)
      if ((m == Mode::kWakeOne || m == Mode::kReusePort) && !run(m, most, Load::kLow, 1)) return 1;
  if (o.json) PrintJson(rows, o);
  else PrintTable(rows, o);
  return 0;
}

}  // namespace
}  // namespace herd_bench

int main(int argc, char** argv) { return herd_bench::Main(argc, argv); }
