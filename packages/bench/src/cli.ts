#!/usr/bin/env node
// `pnpm bench [--quick] [...]`: runs the comparison, prints the table, writes results/.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONTENDERS } from './contenders/index.js';
import { LOAD_TOOLS } from './load/index.js';
import { runBench } from './run.js';
import { terminalTable } from './report/table.js';
import { writeResults } from './report/write.js';
import { markdownReport } from './report/markdown.js';
import { latencySvg, throughputSvg } from './report/svg.js';
import type { BenchResult } from './results.js';
import { registeredSections, workloadsFor } from './workloads/registry.js';
import './workloads/builtin.js';
import './sections/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const HELP = `Usage: pnpm bench [options]

  --quick              tiny loads, one round, no warm-up (under two minutes)
  --out DIR            where results go (default: <repo>/results)
  --contenders REGEX   only contenders whose name matches
  --workloads REGEX    only workloads whose id matches
  --rounds N           measured rounds per workload (default: 3, quick: 1)
  --warmup SEC         warm-up seconds per contender and workload (default: 2, quick: 0)
  --list               list contenders, workloads and sections with availability, then exit
  --doc RESULT.json    print RESULT's report as the "## HTTP servers" section of
                       docs/BENCHMARKS.md (sections follow as ### headings) and
                       write its charts to docs/bench/
  --help               this text`;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    contenders: { type: 'string' },
    workloads: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    list: { type: 'boolean', default: false },
    doc: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}

if (values.doc) {
  const r = JSON.parse(readFileSync(values.doc, 'utf8')) as BenchResult;
  const dir = path.join(repoRoot, 'docs', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'http-throughput.svg'), throughputSvg(r));
  writeFileSync(path.join(dir, 'http-latency.svg'), latencySvg(r));
  console.log(markdownReport(r, { throughput: 'bench/http-throughput.svg', latency: 'bench/http-latency.svg' }, '##'));
  process.exit(0);
}

const mode = values.quick ? 'quick' : 'full';

if (values.list) {
  for (const c of CONTENDERS) console.log(`contender ${c.name.padEnd(18)} ${c.route.padEnd(7)} ${c.unavailable(repoRoot) ?? 'available'}`);
  for (const w of workloadsFor(mode)) console.log(`workload  ${w.id.padEnd(22)} ${LOAD_TOOLS[w.tool]?.unavailable() ?? 'available'}  ${w.title}`);
  for (const s of registeredSections()) console.log(`section   ${s.id.padEnd(22)} ${s.unavailable(repoRoot) ?? 'available'}  ${s.title}`);
  process.exit(0);
}

const argv = process.argv.slice(2).join(' ');
const command = process.env.npm_lifecycle_event === 'bench' ? `npx -y pnpm@9 bench${argv ? ` ${argv}` : ''}` : `node packages/bench/dist/cli.js${argv ? ` ${argv}` : ''}`;

const result = await runBench({
  mode,
  repoRoot,
  command,
  contenders: values.contenders ? new RegExp(values.contenders) : undefined,
  workloads: values.workloads ? new RegExp(values.workloads) : undefined,
  rounds: values.rounds ? Number(values.rounds) : undefined,
  warmupSec: values.warmup !== undefined ? Number(values.warmup) : undefined,
});
console.log(terminalTable(result));
const files = writeResults(result, path.resolve(values.out ?? path.join(repoRoot, 'results')));
console.log(`\nreport: ${files.report}\njson: ${files.json}\ncharts: ${files.throughputSvg} ${files.latencySvg}`);
const leftovers = result.contenders.flatMap((c) => c.leftoverPids);
if (leftovers.length) console.error(`servers still alive after stop: ${leftovers.join(' ')}`);
process.exitCode = result.interrupted ? 130 : leftovers.length ? 1 : 0;
