// The thundering-herd demonstration (issue 5): packages/kevent-native's herd_bench, with the
// servers' accepting threads on the server cores and its clients on the load cores.
import { registerSection } from '../workloads/registry.js';
import { cpuList, mdTable, missingBench, runJsonBench } from './native-bench.js';

export interface HerdRow {
  load: 'low' | 'saturating';
  mode: 'wake-one' | 'wake-all' | 'reuseport' | 'accept';
  threads: number;
  stalled: number;
  connected: number;
  accepted: number;
  connectErrors: number;
  seconds: number;
  connPerSec: number;
  switchesPerConn: number;
  eagainPerConn: number;
  busiestShare: number;
  perThread: number[];
  failed: boolean;
}

export interface HerdData {
  seconds: number;
  lowRate: number;
  clients: number;
  serverCpus: number[];
  clientCpus: number[];
  rows: HerdRow[];
}

export const HERD_THREADS = [1, 2, 4, 8];
export const HERD_MODES = ['wake-one', 'wake-all', 'reuseport', 'accept'] as const;

const MODE_TEXT: Record<HerdRow['mode'], string> = {
  'wake-one': 'a kevent queue per thread on one socket (EPOLLEXCLUSIVE)',
  'wake-all': 'the same with KEVENT_REQ_WAKEUP_ALL',
  reuseport: 'a SO_REUSEPORT socket and a queue per thread',
  accept: 'threads blocked in accept() on one socket',
};

export function herdMarkdown(d: HerdData, command: string): string {
  const row = (r: HerdRow) => [
    r.load, r.mode, r.threads, r.stalled || '', Math.round(r.connPerSec), r.switchesPerConn.toFixed(2), r.eagainPerConn.toFixed(3),
    `${Math.round(100 * r.busiestShare)}%`, r.connected - Math.min(r.connected, r.accepted), r.connectErrors || '',
  ];
  const head = ['load', 'mode', 'threads', 'stalled', 'conn/s', 'ctx switches/conn', 'EAGAIN/conn', 'busiest thread', 'unaccepted', 'connect errors'];
  return [
    `Command: \`${command}\` (accepting threads on CPU ${d.serverCpus.join(',')}, clients on CPU ${d.clientCpus.join(',')}; ` +
      `${d.seconds} s of connections per row; "low" is one client paced at ${d.lowRate} conn/s, "saturating" is ${d.clients} clients connecting as fast as they can).`,
    '',
    'Modes: ' + HERD_MODES.map((m) => `**${m}**: ${MODE_TEXT[m]}`).join('; ') + '.',
    '',
    '"ctx switches/conn" is the kernel\'s count of voluntary context switches of the accepting threads (`/proc/self/task/TID/status`) per accepted ' +
      'connection: a thread woken for a connection another thread took goes back to sleep inside epoll_wait without returning, so only this count sees the herd. ' +
      '"EAGAIN/conn" counts wakeups whose first accept() found nothing. "busiest thread" is the largest share of connections one thread accepted. ' +
      'The "stalled" rows keep one thread registered but never accepting: "unaccepted" is what was still waiting 0.3 s after the clients stopped.',
    '',
    mdTable(head, d.rows.map(row), 2),
    '',
    'What to read: at the low rate, wake-all costs about one switch per thread per connection while wake-one, reuseport and accept() stay near one; ' +
      'wake-one is LIFO (the most recently parked thread gets the next connection, so one thread takes most of them), reuseport spreads them by hash; ' +
      'with a stalled thread, wake-one routes around it while reuseport keeps queueing its hash share on the stalled thread\'s socket.',
  ].join('\n');
}

registerSection({
  id: 'thundering-herd',
  title: 'Thundering herd: wake-one vs KEVENT_REQ_WAKEUP_ALL vs reuseport vs accept()',
  unavailable: (repoRoot) => missingBench(repoRoot, 'herd_bench'),
  async run(ctx) {
    const args = ['--threads', HERD_THREADS.join(','), '--modes', HERD_MODES.join(','), '--seconds', ctx.mode === 'quick' ? '0.1' : '1',
      '--server-cpus', cpuList(ctx.machine.serverCpus), '--client-cpus', cpuList(ctx.machine.loadCpus)];
    const data = await runJsonBench<HerdData>(ctx.repoRoot, 'herd_bench', args, ctx.progress);
    return { markdown: herdMarkdown(data, `packages/kevent-native/build/Release/herd_bench ${args.join(' ')}`), data };
  },
});
