// The workload registry. Built-in load workloads register in builtin.ts; another package's
// experiment registers a ReportSection (see README "Adding a workload").
import type { LoadWorkload, Mode, ReportSection } from './types.js';

type WorkloadFactory = (mode: Mode) => LoadWorkload[];

const factories: WorkloadFactory[] = [];
const sections: ReportSection[] = [];

export function registerWorkloads(factory: WorkloadFactory): void {
  factories.push(factory);
}

export function registerSection(section: ReportSection): void {
  if (sections.some((s) => s.id === section.id)) throw new Error(`section ${section.id} registered twice`);
  sections.push(section);
}

export function workloadsFor(mode: Mode): LoadWorkload[] {
  const all = factories.flatMap((f) => f(mode));
  const ids = new Set<string>();
  for (const w of all) {
    if (ids.has(w.id)) throw new Error(`workload ${w.id} registered twice`);
    ids.add(w.id);
  }
  return all;
}

export const registeredSections = (): ReportSection[] => [...sections];
