// The shape of results/<run>.json: everything the report and charts are drawn from.
import type { Route } from './contenders/types.js';
import type { Latency, Measurement } from './load/types.js';
import type { Machine } from './machine.js';
import type { LoadWorkload, Mode } from './workloads/types.js';

export interface ContenderRecord {
  name: string;
  description: string;
  route: Route;
  status: 'ran' | 'unavailable' | 'failed';
  /** Why it did not run ("not installed", "not available", or the start error). */
  reason?: string;
  port?: number;
  /** Every pid it ran as, and those still alive after stopping (should be empty). */
  pids: number[];
  leftoverPids: number[];
}

export interface Sample extends Measurement {
  round: number;
  /** The server's CPU use during the sample, in cores. */
  serverCpu: number;
  /** CPU used on the server / load cores by anyone (ours and other processes), in cores. */
  serverCoresBusy: number;
  loadCoresBusy: number;
}

export interface Summary {
  rps: number;
  rpsMin: number;
  rpsMax: number;
  /** (max - min) / median of the rounds' req/s. */
  spread: number;
  bytesPerSec: number;
  latencyMs: Latency;
  errors: number;
  non2xx: number;
  timeouts: number;
  loadCpu: number;
  serverCpu: number;
  /** Median over rounds of req/s per core of server CPU (req/s / server CPU in cores). */
  rpsPerCore: number;
  /** Other processes' CPU use on the server and on the load cores (a shared machine). */
  otherOnServerCores: number;
  otherOnLoadCores: number;
  /** Errors by kind over all rounds, where the tool tells them apart. */
  errorKinds: Record<string, number>;
}

export interface Cell {
  contender: string;
  samples: Sample[];
  summary?: Summary;
  /** Median over rounds of (this contender's req/s / the baseline's) in the same round. */
  vsNode?: number;
  vsNginx?: number;
  vsLighttpd?: number;
  /**
   * Median over rounds of (this contender's req/s per server core / the peer's) in the same
   * round; the peer is lighttpd for static files and node:http for the JS route. Unlike req/s,
   * this holds when the load generator, not the server, sets the rate.
   */
  perCoreVsPeer?: number;
  /** Why a number may not be the server's limit (load generator or kernel caps). */
  caps: string[];
  error?: string;
}

export interface WorkloadResult {
  workload: LoadWorkload;
  /** Set when the load tool is missing; the workload is then skipped. */
  skipped?: string;
  kernelCaps: string[];
  cells: Cell[];
}

export interface SectionRecord {
  id: string;
  title: string;
  skipped?: string;
  markdown?: string;
  data?: unknown;
  error?: string;
}

export interface BenchResult {
  runId: string;
  command: string;
  mode: Mode;
  rounds: number;
  warmupSec: number;
  machine: Machine;
  startedAt: string;
  finishedAt: string;
  /** True when the run was interrupted (SIGINT) before finishing. */
  interrupted: boolean;
  contenders: ContenderRecord[];
  workloads: WorkloadResult[];
  sections: SectionRecord[];
}
