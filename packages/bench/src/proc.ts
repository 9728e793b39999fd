// Process plumbing for the harness: pinned spawns with a raised fd limit, CPU time from
// /proc, readiness by TCP connect, and stopping by pid. Every server pid the harness ever
// sees is tracked here so SIGINT or an error can still stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PinnedSpawn {
  /** CPU list for taskset, e.g. "0" or "0-1". */
  cpus: string;
  /** Soft and hard RLIMIT_NOFILE for the child (prlimit). */
  nofile: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Spawns `cmd args` under prlimit and taskset; both exec, so child.pid is cmd's own pid. */
export function spawnPinned(cmd: string, args: string[], pin: PinnedSpawn): ChildProcess {
  const argv = [`--nofile=${pin.nofile}:${pin.nofile}`, '--', 'taskset', '-c', pin.cpus, cmd, ...args];
  return spawn('prlimit', argv, {
    cwd: pin.cwd,
    env: pin.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a pinned command to completion; cpuSec is the user+sys time it and its children used. */
export async function runPinned(
  cmd: string,
  args: string[],
  pin: PinnedSpawn,
  onChild?: (c: ChildProcess) => void,
): Promise<{ code: number | null; stdout: string; stderr: string; cpuSec: number; wallSec: number }> {
  // bash's `times` prints the children's CPU time once the command is done: exact, unlike
  // sampling /proc of a process that may exit between two samples.
  const script = '"$@"; rc=$?; times >&2; exit $rc';
  const started = process.hrtime.bigint();
  const child = spawnPinned('bash', ['-c', script, 'bench-load', cmd, ...args], pin);
  onChild?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const wallSec = Number(process.hrtime.bigint() - started) / 1e9;
  const { cpuSec, rest } = splitTimes(stderr);
  return { code, stdout, stderr: rest, cpuSec, wallSec };
}

function splitTimes(stderr: string): { cpuSec: number; rest: string } {
  const lines = stderr.trimEnd().split('\n');
  const children = lines.at(-1) ?? '';
  const m = children.match(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/);
  if (!m) return { cpuSec: NaN, rest: stderr };
  const cpuSec = Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
  return { cpuSec, rest: lines.slice(0, -2).join('\n') };
}

const CLK_TCK = 100; // USER_HZ: fixed at 100 on Linux for /proc/*/stat

/** user+sys seconds of a live process, or 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Alive means running or sleeping: a zombie nobody reaped has already stopped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The process and all its descendants (nginx/lighttpd workers, cluster workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!;
    const file = `/proc/${p}/task/${p}/children`;
    if (!existsSync(file)) continue;
    try {
      for (const c of readFileSync(file, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      // the process exited between the two reads
    }
  }
  return out;
}

export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`);
    }
    if (await canConnect(port)) return;
    await sleep(50);
  }
  throw new Error(`not listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A free port on 127.0.0.1, found by letting the kernel pick one and releasing it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Every pid the harness started or discovered, so a crash path can still stop them. */
const tracked = new Set<number>();
export const trackPids = (pids: number[]): void => pids.forEach((p) => tracked.add(p));
export const trackedPids = (): number[] => [...tracked];

/** SIGTERM (or `signal`) to the first pid, then waits; survivors of the grace period get SIGKILL. */
export async function stopPids(pids: number[], signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number[]> {
  const [main, ...rest] = pids;
  if (main !== undefined) signalPid(main, signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(isAlive)) await sleep(25);
  // Workers whose master died without taking them along would keep the port: TERM them too.
  for (const p of rest) if (isAlive(p)) signalPid(p, 'SIGTERM');
  await sleep(rest.some(isAlive) ? 200 : 0);
  for (const p of pids) if (isAlive(p)) signalPid(p, 'SIGKILL');
  const end = Date.now() + 2000;
  while (Date.now() < end && pids.some(isAlive)) await sleep(25);
  pids.forEach((p) => tracked.delete(p));
  return pids.filter(isAlive);
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Synchronous last resort for process exit: SIGKILL every tracked pid still alive. */
export function killTrackedSync(): void {
  for (const p of tracked) if (isAlive(p)) signalPid(p, 'SIGKILL');
}
