// Writes one run's files: results/<run>.json, .md and the two SVG charts.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResult } from '../results.js';
import { markdownReport } from './markdown.js';
import { latencySvg, throughputSvg } from './svg.js';

export interface WrittenFiles {
  json: string;
  report: string;
  throughputSvg: string;
  latencySvg: string;
}

export function writeResults(r: BenchResult, outDir: string): WrittenFiles {
  mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, `bench-${r.runId}`);
  const files: WrittenFiles = {
    json: `${base}.json`,
    report: `${base}.md`,
    throughputSvg: `${base}-throughput.svg`,
    latencySvg: `${base}-latency.svg`,
  };
  writeFileSync(files.json, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(files.throughputSvg, throughputSvg(r));
  writeFileSync(files.latencySvg, latencySvg(r));
  const charts = { throughput: path.basename(files.throughputSvg), latency: path.basename(files.latencySvg) };
  writeFileSync(files.report, markdownReport(r, charts) + '\n');
  return files;
}
