// The seed's events/sec table (Eric Dumazet's epoll_bench, quoted in the kevent announcement),
// from packages/kevent-native's events_bench: epoll and kevent::Queue readers, level and edge
// triggered, and blocking reads, over TCP, AF_UNIX and pipes.
import { registerSection } from '../workloads/registry.js';
import { mdTable, missingBench, runJsonBench } from './native-bench.js';

export interface EventsRow {
  transport: string;
  mechanism: string;
  eventsPerSec: number;
  writesPerSec: number;
  readerNsPerEvent: number;
  vsEpoll: number | null;
  cpuVsEpoll: number | null;
}

export interface EventsData {
  conns: number;
  seconds: number;
  rounds: number;
  placement: string;
  rows: EventsRow[];
}

export const EVENTS_TRANSPORTS = ['tcp', 'unix', 'pipe'];
export const EVENTS_MECHANISMS = ['epoll', 'kevent', 'epoll-et', 'kevent-et', 'blocking'];
// The seed's own table (2006, TCP, 2000 connections) for comparison of shape, not of speed.
const SEED: Record<string, number> = { epoll: 57428, kevent: 59794, 'epoll-et': 71000, 'kevent-et': 78265, blocking: 88482 };

const pct = (x: number | null) => (x == null ? '' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`);

export function eventsMarkdown(d: EventsData, command: string): string {
  const head = ['transport', 'reader', 'events/s', 'vs epoll (same trigger)', 'reader CPU ns/event', 'vs epoll', 'writes/s', 'seed (2006, TCP)'];
  const body = d.rows.map((r) => [r.transport, r.mechanism, Math.round(r.eventsPerSec), pct(r.vsEpoll), Math.round(r.readerNsPerEvent), pct(r.cpuVsEpoll),
    Math.round(r.writesPerSec), r.transport === 'tcp' ? SEED[r.mechanism] ?? '' : '']);
  return [
    `Command: \`${command}\` (${d.conns} connections, ${d.seconds} s per row, median of ${d.rounds} interleaved round(s), writer niced +10, ${d.placement}).`,
    '',
    mdTable(head, body, 2),
  ].join('\n');
}

registerSection({
  id: 'events-per-sec',
  title: "Events per second (the seed's epoll vs kevent table)",
  unavailable: (repoRoot) => missingBench(repoRoot, 'events_bench'),
  async run(ctx) {
    const args = ctx.mode === 'quick'
      ? ['--conns', '200', '--seconds', '0.1', '--warmup', '0.02', '--rounds', '1']
      : ['--conns', '2000', '--seconds', '1', '--warmup', '0.25', '--rounds', '2'];
    args.push('--transports', EVENTS_TRANSPORTS.join(','), '--rows', EVENTS_MECHANISMS.join(','));
    const data = await runJsonBench<EventsData>(ctx.repoRoot, 'events_bench', args, ctx.progress);
    return { markdown: eventsMarkdown(data, `packages/kevent-native/build/Release/events_bench ${args.join(' ')}`), data };
  },
});
