// What the machine is and what it allows: the report quotes it, and the cap notes compare
// each workload against these kernel limits.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

export interface Machine {
  cpus: number;
  cpuModel: string;
  kernel: string;
  node: string;
  memGiB: number;
  loadAvg: number[];
  somaxconn: number;
  portRange: [number, number];
  tcpTwReuse: number;
  fdSoft: number;
  fdHard: number;
  /** taskset lists: the servers get one set of cores, the load generators the other. */
  serverCpus: string;
  loadCpus: string;
  /** Worker/thread count given to every contender: the number of server cores. */
  threads: number;
}

function readNum(path: string, fallback: number): number {
  try {
    return Number(readFileSync(path, 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return fallback;
  }
}

function fdLimits(): [number, number] {
  try {
    const out = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--raw', '--noheadings', '-o', 'SOFT,HARD'], { encoding: 'utf8' });
    const [soft, hard] = out.trim().split(/\s+/).map((v) => (v === 'unlimited' ? 1 << 20 : Number(v)));
    return [soft!, hard!];
  } catch {
    return [1024, 1024];
  }
}

/** Splits the cores in two halves (server first); a 1-core machine shares its core. */
export function splitCpus(n: number): { serverCpus: string; loadCpus: string; threads: number } {
  if (n <= 1) return { serverCpus: '0', loadCpus: '0', threads: 1 };
  const half = Math.floor(n / 2);
  const range = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`);
  return { serverCpus: range(0, half - 1), loadCpus: range(half, n - 1), threads: half };
}

/** "0-3,6" -> [0, 1, 2, 3, 6] */
export function cpuList(list: string): number[] {
  return list.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
  });
}

/** Busy and total jiffies of each CPU from /proc/stat, to see who else used our cores. */
export function cpuJiffies(): Map<number, { busy: number; total: number }> {
  const out = new Map<number, { busy: number; total: number }>();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = line.match(/^cpu(\d+) (.*)$/);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    const idle = f[3]! + (f[4] ?? 0); // idle + iowait
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
    out.set(Number(m[1]), { busy: total - idle, total });
  }
  return out;
}

/** Cores' worth of CPU used by anyone on `cpus` between two cpuJiffies() snapshots. */
export function coresBusy(before: ReturnType<typeof cpuJiffies>, after: ReturnType<typeof cpuJiffies>, cpus: number[]): number {
  return cpus.reduce((sum, c) => {
    const a = before.get(c);
    const b = after.get(c);
    return a && b && b.total > a.total ? sum + (b.busy - a.busy) / (b.total - a.total) : sum;
  }, 0);
}

export function describeMachine(): Machine {
  const cpus = os.availableParallelism();
  const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const [fdSoft, fdHard] = fdLimits();
  return {
    cpus,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    kernel: os.release(),
    node: process.version,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAvg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    somaxconn: readNum('/proc/sys/net/core/somaxconn', 4096),
    portRange: [range[0]!, range[1]!],
    tcpTwReuse: readNum('/proc/sys/net/ipv4/tcp_tw_reuse', 0),
    fdSoft,
    fdHard,
    ...splitCpus(cpus),
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpus} cores (${m.cpuModel}), ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}; ` +
    `somaxconn ${m.somaxconn}, ports ${m.portRange[0]}-${m.portRange[1]}, tcp_tw_reuse ${m.tcpTwReuse}, ` +
    `fd limit ${m.fdSoft}/${m.fdHard}; servers on CPU ${m.serverCpus}, load on CPU ${m.loadCpus}; ` +
    `load average at start ${m.loadAvg.join(' ')}`;
}
