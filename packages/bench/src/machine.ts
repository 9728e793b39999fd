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
