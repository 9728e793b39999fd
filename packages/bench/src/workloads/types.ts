// Workloads are what the bench measures. Two kinds plug into the registry:
// - LoadWorkload: one load tool against every running contender serving its route, measured
//   side by side (warm-up, then interleaved rounds), giving a row per contender;
// - ReportSection: a self-contained experiment that runs once and returns its own markdown
//   and data (the thundering-herd demonstration and the events/sec table plug in here).
import type { Route } from '../contenders/types.js';
import type { Machine } from '../machine.js';

export type Mode = 'quick' | 'full';

export interface LoadWorkload {
  id: string;
  title: string;
  route: Route;
  /** Request path: a file under the shared root, or the hello route. */
  path: string;
  /** A key of LOAD_TOOLS. */
  tool: string;
  concurrency: number;
  keepAlive: boolean;
  durationSec: number;
  /** Request count for count-bound tools (ab). */
  requests: number;
  /** Requests each connection sends before it reads their answers (wrk only). */
  pipeline?: number;
  /** Body bytes a correct response carries: fewer per response means failures counted as successes. */
  bodyBytes: number;
  /** Why this workload is here, for the report. */
  note?: string;
}

export interface SectionContext {
  mode: Mode;
  machine: Machine;
  repoRoot: string;
  /** Scratch space that is removed after the run. */
  workDir: string;
  /** Updates the live progress line. */
  progress(text: string): void;
}

export interface SectionResult {
  /** Markdown (headings from ### down) for the report. */
  markdown: string;
  /** Anything JSON-serialisable, saved in results/*.json. */
  data: unknown;
}

export interface ReportSection {
  id: string;
  title: string;
  /** null when it can run here, else why not; the report then says so. */
  unavailable(repoRoot: string): string | null;
  run(ctx: SectionContext): Promise<SectionResult>;
}
