// @kevent/bench's programmatic API: run the comparison, register workloads and contenders.
export { runBench, type BenchOptions } from './run.js';
export { registerWorkloads, registerSection, workloadsFor, registeredSections } from './workloads/registry.js';
export type { LoadWorkload, ReportSection, SectionContext, SectionResult, Mode } from './workloads/types.js';
export { CONTENDERS, BASELINES } from './contenders/index.js';
export type { Contender, Route, Running, StartOptions } from './contenders/index.js';
export { startServerProcess } from './contenders/process-server.js';
export { LOAD_TOOLS } from './load/index.js';
export type { LoadTool, LoadSpec, Measurement } from './load/index.js';
export { parseAb } from './load/ab.js';
export { parseWrk } from './load/wrk.js';
export { writeResults } from './report/write.js';
export { markdownReport } from './report/markdown.js';
export type { BenchResult } from './results.js';
