// A load generator runs one measurement against one URL and reports what it saw. Tools are
// interchangeable per workload: autocannon (programmatic), ab (the seed's tool), wrk (C, for
// where autocannon's own CPU use caps the result).
import type { ChildProcess } from 'node:child_process';

export interface LoadSpec {
  url: string;
  concurrency: number;
  keepAlive: boolean;
  /** For duration-bound tools (autocannon, wrk). */
  durationSec: number;
  /** For count-bound tools (ab -n). */
  requests: number;
  /** Requests each connection sends before it reads their answers (wrk); 1 or absent: none. */
  pipeline?: number;
  /** taskset CPU list and fd limit of the load generator process. */
  cpus: string;
  nofile: number;
}

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface Measurement {
  rps: number;
  bytesPerSec: number;
  /** Milliseconds. */
  latencyMs: Latency;
  requests: number;
  /** Connection errors, failed requests (ab), socket errors (wrk). */
  errors: number;
  non2xx: number;
  timeouts: number;
  wallSec: number;
  /** The load generator's CPU use during the run, in cores (1 = one core busy). */
  loadCpu: number;
  /** Errors by kind where the tool tells them apart (ab: connect/receive/length/exceptions). */
  errorKinds?: Record<string, number>;
}

export interface LoadTool {
  name: string;
  unavailable(): string | null;
  run(spec: LoadSpec, onChild: (c: ChildProcess) => void): Promise<Measurement>;
}
