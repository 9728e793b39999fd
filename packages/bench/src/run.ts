// The orchestration: start every available contender once, pinned to the server cores; for
// each workload run a warm-up and then interleaved rounds (every contender once per round, in
// rotating order) so drift on a shared machine hits all of them alike; stop everything by pid.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BASELINES, CONTENDERS, type Contender, type Running } from './contenders/index.js';
import { makeDocRoot } from './docroot.js';
import { LOAD_TOOLS, type LoadSpec } from './load/index.js';
import { coresBusy, cpuJiffies, cpuList, describeMachine, type Machine } from './machine.js';
import { cpuSeconds, freePort, isAlive, killTrackedSync, processTree, stopPids } from './proc.js';
import { Progress, formatDuration } from './progress.js';
import type { BenchResult, Cell, ContenderRecord, Sample, SectionRecord, Summary, WorkloadResult } from './results.js';
import { fmtMs } from './report/format.js';
import { median, spread } from './stats.js';
import { registeredSections, workloadsFor } from './workloads/registry.js';
import type { LoadWorkload, Mode } from './workloads/types.js';
import './workloads/builtin.js';

export interface BenchOptions {
  mode: Mode;
  repoRoot: string;
  /** The command line as a person would type it, for the report. */
  command: string;
  /** Only contenders / workloads whose name matches. */
  contenders?: RegExp;
  workloads?: RegExp;
  rounds?: number;
  warmupSec?: number;
}

const PLAN: Record<Mode, { rounds: number; warmupSec: number; pauseMs: number }> = {
  quick: { rounds: 1, warmupSec: 0, pauseMs: 100 },
  full: { rounds: 3, warmupSec: 2, pauseMs: 1000 },
};

interface Live {
  contender: Contender;
  record: ContenderRecord;
  running?: Running;
}

/** What SIGINT needs to reach: the load generator in flight and the servers. */
interface Interrupt {
  requested: boolean;
  loadChild?: ChildProcess;
}

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const plan = { ...PLAN[opts.mode], ...(opts.rounds ? { rounds: opts.rounds } : {}), ...(opts.warmupSec !== undefined ? { warmupSec: opts.warmupSec } : {}) };
  const machine = describeMachine();
  const progress = new Progress();
  const interrupt: Interrupt = { requested: false };
  const root = makeDocRoot();
  const workBase = mkdtempSync(path.join(tmpdir(), 'kevent-bench-work-'));
  const startedAt = new Date().toISOString();
  pinSelf(machine.loadCpus);

  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupt.requested) return;
    interrupt.requested = true;
    progress.log(`\n${sig}: stopping the load generator and every server by pid...`);
    const child = interrupt.loadChild;
    if (child?.pid && child.exitCode === null) void stopPids(processTree(child.pid), 'SIGTERM', 500);
  };
  const lastResort = () => killTrackedSync();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', lastResort);

  const workloads = workloadsFor(opts.mode).filter((w) => !opts.workloads || opts.workloads.test(w.id));
  const routes = new Set(workloads.map((w) => w.route));
  const lives: Live[] = CONTENDERS.filter((c) => !opts.contenders || opts.contenders.test(c.name)).map((contender) => ({
    contender,
    record: { name: contender.name, description: contender.description, route: contender.route, status: 'unavailable', pids: [], leftoverPids: [] },
  }));
  const result: BenchResult = {
    runId: startedAt.replace(/[:.]/g, '-').replace(/Z$/, ''),
    command: opts.command,
    mode: opts.mode,
    rounds: plan.rounds,
    warmupSec: plan.warmupSec,
    machine,
    startedAt,
    finishedAt: startedAt,
    interrupted: false,
    contenders: lives.map((l) => l.record),
    workloads: [],
    sections: [],
  };

  try {
    for (const live of lives) {
      if (interrupt.requested) break;
      const reason = live.contender.unavailable(opts.repoRoot) ?? (routes.has(live.contender.route) ? null : 'no selected workload uses its route');
      if (reason) {
        live.record.reason = reason;
        progress.log(`  ${live.contender.name}: ${reason}`);
        continue;
      }
      progress.update(`starting ${live.contender.name}...`);
      try {
        const port = await freePort();
        live.running = await live.contender.start({
          root: root.dir, port, threads: machine.threads, cpus: machine.serverCpus, nofile: machine.fdHard,
          backlog: machine.somaxconn, workDir: path.join(workBase, live.contender.name), repoRoot: opts.repoRoot,
        });
        Object.assign(live.record, { status: 'ran', port, pids: live.running.pids });
        progress.log(`  ${live.contender.name}: started on 127.0.0.1:${port}, pids ${live.running.pids.join(' ')}`);
      } catch (e) {
        Object.assign(live.record, { status: 'failed', reason: `failed to start: ${(e as Error).message}` });
        progress.log(`  ${live.contender.name}: ${live.record.reason}`);
      }
    }

    const started = lives.filter((l) => l.running);
    const total = workloads.reduce((n, w) => n + started.filter((l) => l.contender.route === w.route).length * (plan.rounds + (plan.warmupSec > 0 ? 1 : 0)), 0);
    const clock = { done: 0, total, t0: Date.now() };
    for (const w of workloads) {
      if (interrupt.requested) break;
      result.workloads.push(await runWorkload(w, started.filter((l) => l.contender.route === w.route), machine, plan, progress, interrupt, clock));
    }
    for (const s of registeredSections()) {
      if (interrupt.requested) break;
      result.sections.push(await runSection(s, opts, machine, workBase, progress));
    }
  } finally {
    progress.update('stopping servers...');
    for (const live of lives) {
      if (!live.running) continue;
      live.record.leftoverPids = await live.running.stop();
      live.record.pids = live.running.pids;
    }
    progress.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', lastResort);
    root.remove();
    rmSync(workBase, { recursive: true, force: true });
  }
  result.interrupted = interrupt.requested;
  result.finishedAt = new Date().toISOString();
  return result;
}

/** The harness itself (progress, parsing, timers) stays off the server cores. */
function pinSelf(cpus: string): void {
  try {
    execFileSync('taskset', ['-a', '-c', '-p', cpus, String(process.pid)], { stdio: 'ignore' });
  } catch {
    // taskset missing: the numbers get noisier, not wrong
  }
}

async function runWorkload(
  w: LoadWorkload,
  lives: Live[],
  machine: Machine,
  plan: { rounds: number; warmupSec: number; pauseMs: number },
  progress: Progress,
  interrupt: Interrupt,
  clock: { done: number; total: number; t0: number },
): Promise<WorkloadResult> {
  const tool = LOAD_TOOLS[w.tool];
  const out: WorkloadResult = { workload: w, kernelCaps: kernelCaps(w, machine), cells: [] };
  const skipped = tool ? tool.unavailable() : `unknown load tool ${w.tool}`;
  if (skipped || !tool) {
    out.skipped = `${w.tool}: ${skipped}`;
    progress.log(`  ${w.id}: skipped, ${out.skipped}`);
    return out;
  }
  const cells = new Map<string, Cell>(lives.map((l) => [l.contender.name, { contender: l.contender.name, samples: [], caps: [] }]));
  const rounds = [...(plan.warmupSec > 0 ? [0] : []), ...Array.from({ length: plan.rounds }, (_, i) => i + 1)];
  for (const round of rounds) {
    // Rotate who goes first so no contender always follows the same neighbour.
    const order = lives.map((_, i) => lives[(i + round) % lives.length]!);
    for (const live of order) {
      if (interrupt.requested) return finish(out, cells, lives, machine);
      const cell = cells.get(live.contender.name)!;
      const running = live.running!;
      const label = round === 0 ? 'warm-up' : `round ${round}/${plan.rounds}`;
      const eta = clock.done > 0 ? ((Date.now() - clock.t0) / clock.done) * (clock.total - clock.done) / 1000 : NaN;
      const head = `[${clock.done + 1}/${clock.total}] ${w.id} · ${live.contender.name} · ${label}`;
      const t = Date.now();
      const ticker = setInterval(() => progress.update(`${head} · ${formatDuration((Date.now() - t) / 1000)} · ETA ${formatDuration(eta)}`), 500);
      progress.update(`${head} · ETA ${formatDuration(eta)}`);
      try {
        if (!isAlive(running.pids[0]!)) throw new Error(`server exited:\n${running.logTail()}`);
        const spec: LoadSpec = {
          url: `http://127.0.0.1:${running.port}${w.path}`,
          concurrency: w.concurrency,
          keepAlive: w.keepAlive,
          durationSec: round === 0 ? plan.warmupSec : w.durationSec,
          requests: round === 0 ? Math.min(w.requests, Math.max(w.concurrency, 1000)) : w.requests,
          pipeline: w.pipeline,
          cpus: machine.loadCpus,
          nofile: machine.fdHard,
        };
        const cpu0 = sumCpu(running.pids);
        const jiffies0 = cpuJiffies();
        const m = await tool.run(spec, (c) => (interrupt.loadChild = c));
        const jiffies1 = cpuJiffies();
        const serverCpu = (sumCpu(running.pids) - cpu0) / m.wallSec;
        const serverCoresBusy = coresBusy(jiffies0, jiffies1, cpuList(machine.serverCpus));
        const loadCoresBusy = coresBusy(jiffies0, jiffies1, cpuList(machine.loadCpus));
        if (round > 0) cell.samples.push({ ...m, round, serverCpu, serverCoresBusy, loadCoresBusy });
        progress.step(`${head}: ${Math.round(m.rps)} req/s, p99 ${fmtMs(m.latencyMs.p99)}, ${m.errors + m.timeouts + m.non2xx} errors`);
      } catch (e) {
        if (!interrupt.requested) {
          cell.error = (e as Error).message.split('\n').slice(0, 4).join(' | ');
          progress.log(`  ${w.id} · ${live.contender.name}: ${cell.error}`);
        }
      } finally {
        clearInterval(ticker);
        interrupt.loadChild = undefined;
      }
      clock.done++;
      await sleep(plan.pauseMs);
    }
  }
  return finish(out, cells, lives, machine);
}

function sumCpu(pids: number[]): number {
  return pids.reduce((s, p) => s + cpuSeconds(p), 0);
}

function finish(out: WorkloadResult, cells: Map<string, Cell>, lives: Live[], machine: Machine): WorkloadResult {
  for (const cell of cells.values()) cell.summary = summarize(cell.samples);
  const baselineNode = cells.get(BASELINES.node[out.workload.route]);
  const baselineNginx = out.workload.route === 'static' ? cells.get(BASELINES.nginx) : undefined;
  const baselineLighttpd = out.workload.route === 'static' ? cells.get(BASELINES.lighttpd) : undefined;
  const peer = out.workload.route === 'static' ? baselineLighttpd : baselineNode;
  for (const l of lives) {
    const cell = cells.get(l.contender.name)!;
    cell.vsNode = roundRatio(cell, baselineNode, rpsOf);
    cell.vsNginx = roundRatio(cell, baselineNginx, rpsOf);
    cell.vsLighttpd = roundRatio(cell, baselineLighttpd, rpsOf);
    cell.perCoreVsPeer = roundRatio(cell, peer, rpsPerCoreOf);
    if (cell.summary) cell.caps.push(...bodyCheck(cell.summary, out.workload), ...cellCaps(cell.summary, machine));
    out.cells.push(cell);
  }
  return out;
}

/** ab counts an empty reply as a success when the first reply was empty too: check the bytes. */
export function bodyCheck(s: Summary, w: LoadWorkload): string[] {
  const perResponse = s.rps > 0 ? s.bytesPerSec / s.rps : 0;
  if (s.rps > 0 && perResponse < w.bodyBytes * 0.95) {
    return [`INVALID: responses averaged ${Math.round(perResponse)} bytes, less than the ${w.bodyBytes}-byte body: failed replies were counted as successes`];
  }
  return [];
}

const pct = (f: number) => `${Math.round(f * 100)}%`;

/** Why a cell's number may be a limit of the load side or of the shared machine. */
export function cellCaps(s: Summary, machine: Machine): string[] {
  const caps: string[] = [];
  const loadCores = cpuList(machine.loadCpus).length;
  const serverCores = cpuList(machine.serverCpus).length;
  const loadSideFull = s.loadCpu + s.otherOnLoadCores >= 0.9 * loadCores;
  if (s.loadCpu >= 0.9 * loadCores) {
    caps.push(`load generator at ${pct(s.loadCpu / loadCores)} of its ${loadCores} core(s), server at ${pct(s.serverCpu / serverCores)}: capped by the load generator`);
  } else if (loadSideFull && s.serverCpu < 0.8 * serverCores) {
    caps.push(`the load core(s) were full (load generator ${pct(s.loadCpu)}, other processes ${pct(s.otherOnLoadCores)}) while the server used ${pct(s.serverCpu / serverCores)}: capped on the load side`);
  }
  if (s.otherOnServerCores >= 0.15 * serverCores) {
    caps.push(`other processes used ${pct(s.otherOnServerCores / serverCores)} of the server core(s) meanwhile (shared machine)`);
  }
  const kinds = Object.entries(s.errorKinds).filter(([, n]) => n > 0);
  if (kinds.length) caps.push(`errors by kind: ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return caps;
}

const rpsOf = (s: Sample) => s.rps;
/** Requests per second per core of server CPU: what a server gets out of the CPU it used. */
const rpsPerCoreOf = (s: Sample) => (s.serverCpu > 0 ? s.rps / s.serverCpu : 0);

/** Median over rounds of the per-round ratio of `f`: both numbers come from the same round. */
function roundRatio(cell: Cell, base: Cell | undefined, f: (s: Sample) => number): number | undefined {
  if (!base || base === cell || base.samples.length === 0) return undefined;
  const ratios = cell.samples.flatMap((s) => {
    const b = base.samples.find((x) => x.round === s.round);
    return b && f(b) > 0 ? [f(s) / f(b)] : [];
  });
  return ratios.length ? median(ratios) : undefined;
}

function summarize(samples: Sample[]): Summary | undefined {
  if (samples.length === 0) return undefined;
  const col = (f: (s: Sample) => number) => median(samples.map(f));
  const rps = samples.map((s) => s.rps);
  return {
    rps: median(rps),
    rpsMin: Math.min(...rps),
    rpsMax: Math.max(...rps),
    spread: spread(rps),
    bytesPerSec: col((s) => s.bytesPerSec),
    latencyMs: { p50: col((s) => s.latencyMs.p50), p90: col((s) => s.latencyMs.p90), p99: col((s) => s.latencyMs.p99), max: Math.max(...samples.map((s) => s.latencyMs.max)) },
    errors: samples.reduce((n, s) => n + s.errors, 0),
    non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
    timeouts: samples.reduce((n, s) => n + s.timeouts, 0),
    loadCpu: col((s) => s.loadCpu),
    serverCpu: col((s) => s.serverCpu),
    rpsPerCore: col(rpsPerCoreOf),
    // Our own processes' share is subtracted; what remains is everybody else's.
    otherOnServerCores: col((s) => Math.max(0, s.serverCoresBusy - s.serverCpu)),
    otherOnLoadCores: col((s) => Math.max(0, s.loadCoresBusy - s.loadCpu)),
    errorKinds: samples.reduce<Record<string, number>>((acc, s) => {
      for (const [k, n] of Object.entries(s.errorKinds ?? {})) acc[k] = (acc[k] ?? 0) + n;
      return acc;
    }, {}),
  };
}

/** Kernel limits that bound what this workload can show, whoever the server is. */
export function kernelCaps(w: LoadWorkload, m: Machine): string[] {
  const caps: string[] = [];
  if (w.concurrency > m.somaxconn) {
    caps.push(`${w.concurrency} connections > net.core.somaxconn ${m.somaxconn}: connects beyond the accept backlog are dropped and retried on the client's SYN timer (1 s, 3 s, ...), which lands in the latency tail`);
  }
  if (w.concurrency + 64 > m.fdHard) caps.push(`${w.concurrency} connections near the fd limit ${m.fdHard}`);
  const ports = m.portRange[1] - m.portRange[0] + 1;
  if (!w.keepAlive && m.tcpTwReuse === 0) {
    caps.push(`a new connection per request with tcp_tw_reuse=0: ${ports} ephemeral ports cycle through TIME_WAIT (60 s), so sustained rates above ~${Math.floor(ports / 60)}/s run out of ports`);
  }
  return caps;
}

async function runSection(
  s: ReturnType<typeof registeredSections>[number],
  opts: BenchOptions,
  machine: Machine,
  workBase: string,
  progress: Progress,
): Promise<SectionRecord> {
  const rec: SectionRecord = { id: s.id, title: s.title };
  const skipped = s.unavailable(opts.repoRoot);
  if (skipped) return { ...rec, skipped };
  try {
    const r = await s.run({ mode: opts.mode, machine, repoRoot: opts.repoRoot, workDir: path.join(workBase, `section-${s.id}`), progress: (t) => progress.update(`${s.id}: ${t}`) });
    return { ...rec, markdown: r.markdown, data: r.data };
  } catch (e) {
    progress.log(`  section ${s.id}: ${(e as Error).message}`);
    return { ...rec, error: (e as Error).message };
  }
}
