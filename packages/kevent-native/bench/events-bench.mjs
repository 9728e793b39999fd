// `pnpm run bench:events`: the seed's events/sec table (Eric Dumazet's epoll_bench, Nov 2006),
// first with C++ readers (build/Release/events_bench: raw epoll, kevent::Queue, blocking
// reads), then with the reader in JavaScript on @kevent/native, in one run, with ratios.
//
//   node bench/events-bench.mjs [--conns 2000] [--seconds 1] [--rounds 2] [--warmup 0.25]
//                               [--transports tcp,unix,pipe] [--placement same|split|none] [--json]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JS_ROWS, openChannels, closeChannels, runJsRow } from './js-rows.mjs';

const binary = fileURLToPath(new URL('../build/Release/events_bench', import.meta.url));
const SEED = { epoll: 57428, kevent: 59794, 'epoll-et': 71000, 'kevent-et': 78265, blocking: 88482 };

const { values: opt } = parseArgs({
  options: {
    conns: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '0.25' },
    transports: { type: 'string', default: 'tcp,unix,pipe' },
    placement: { type: 'string', default: 'same' },
    json: { type: 'boolean', default: false },
  },
});
const conns = Number(opt.conns);
const seconds = Number(opt.seconds);
const rounds = Number(opt.rounds);
const warmup = Number(opt.warmup);
const transports = opt.transports.split(',');
const { placement } = opt;
if (!['same', 'split', 'none'].includes(placement)) {
  console.error('events-bench: --placement is same (reader and writer on CPU 0), split (writer on CPU 1) or none');
  process.exit(2);
}

if (!existsSync(binary)) {
  console.error(`events-bench: ${binary} is missing; run \`npx -y pnpm@9 install\` (it builds it)`);
  process.exit(1);
}

function runCpp() {
  const args = ['--json', '--conns', opt.conns, '--seconds', opt.seconds, '--rounds', opt.rounds,
    '--warmup', opt.warmup, '--transports', opt.transports, '--placement', placement];
  return JSON.parse(execFileSync(binary, args, { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 })).rows;
}

// Only the main (reader) thread goes to CPU 0: `taskset -p` on the pid moves the thread whose
// id is the pid. The C++ writer pins itself (CPU 0, or CPU 1 with --placement split).
function pinReader() {
  try {
    execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
  } catch (err) {
    console.error(`events-bench: could not pin the reader (${err.message}); running unpinned`);
  }
}

async function runJs() {
  if (placement !== 'none') pinReader();
  const samples = new Map();
  const channels = new Map(transports.map((t) => [t, openChannels(t, conns)]));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const t of transports) {
        for (const row of JS_ROWS) {
          const r = await runJsRow(row, t, channels.get(t), { binary, warmup, seconds, placement });
          const key = `${t} ${row}`;
          samples.set(key, [...(samples.get(key) ?? []), { transport: t, mechanism: row, ...r }]);
          console.error(`  round ${round}  ${t.padEnd(5)} ${row.padEnd(13)} ${r.eventsPerSec.toFixed(0).padStart(10)} events/s`);
        }
      }
    }
  } finally {
    for (const c of channels.values()) closeChannels(c);
  }
  return [...samples.values()].map((s) => s.sort((a, b) => a.eventsPerSec - b.eventsPerSec)[Math.floor(s.length / 2)]);
}

const PLACEMENTS = {
  same: 'reader and writer on CPU 0',
  split: 'reader on CPU 0, writer on CPU 1',
  none: 'threads not pinned',
};
const pct = (a, b) => (b > 0 ? `${a >= b ? '+' : ''}${(100 * (a / b - 1)).toFixed(1)}%` : '');
const find = (rows, t, m) => rows.find((r) => r.transport === t && r.mechanism === m);
// The C++ row a JS row is compared with.
const cppTwin = (m) => (m.endsWith('-et') ? 'kevent-et' : 'kevent');

console.error(`events-bench: C++ readers (${conns} connections, ${seconds} s per row, median of ${rounds})`);
const cpp = runCpp();
console.error('events-bench: JavaScript readers');
const js = await runJs();

if (opt.json) {
  console.log(JSON.stringify({ conns, seconds, rounds, placement, cpp, js }));
} else {
  console.log(`\nevents/sec, ${conns} connections, ${seconds} s per row, median of ${rounds} interleaved round(s),` +
    ` writer niced +10, ${PLACEMENTS[placement]}\n`);
  console.log('| transport | reader | events/s | vs epoll (same trigger) | reader CPU ns/event | vs epoll | writes/s | seed (2006, TCP) |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  const ratio = (x) => (x == null ? '' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`);
  for (const r of cpp) {
    const seed = r.transport === 'tcp' ? SEED[r.mechanism] : '';
    console.log(`| ${r.transport} | C++ ${r.mechanism} | ${r.eventsPerSec.toFixed(0)} | ${ratio(r.vsEpoll)} |` +
      ` ${r.readerNsPerEvent.toFixed(0)} | ${ratio(r.cpuVsEpoll)} | ${r.writesPerSec.toFixed(0)} | ${seed ?? ''} |`);
  }
  console.log('\n| transport | reader | events/s | vs C++ kevent (same trigger) | reader CPU ns/event | JS cost ns/event | writer avg writes/s |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of js) {
    const twin = find(cpp, r.transport, cppTwin(r.mechanism));
    const extra = twin ? (r.readerNs - twin.readerNsPerEvent).toFixed(0) : '';
    console.log(`| ${r.transport} | ${r.mechanism} | ${r.eventsPerSec.toFixed(0)} | ${twin ? pct(r.eventsPerSec, twin.eventsPerSec) : ''} |` +
      ` ${r.readerNs.toFixed(0)} | ${extra} | ${r.writesPerSec.toFixed(0)} |`);
  }
}
