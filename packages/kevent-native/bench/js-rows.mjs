// The JS side of the events bench: the same channels and the same writer as the C++ rows
// (events_bench in writer-only mode, on inherited fds), with the reader in JavaScript on
// @kevent/native, so the difference to the C++ kevent rows is what crossing into JS costs.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  Queue, listen, connect, accept, localAddress, read, setNoDelay, close, pipe, socketpair,
  KEVENT_CTL_ADD, KEVENT_SOCKET, KEVENT_PIPE, KEVENT_SOCKET_RECV, KEVENT_REQ_ALWAYS_QUEUE,
  KEVENT_REQ_ET, KEVENT_RET_BROKEN,
} from '../dist/index.js';

export const JS_ROWS = ['js-kevent', 'js-kevent-et', 'js-ring', 'js-ring-et'];
const MAX_EVENTS = 1024;
const READ_BYTES = 1024;
const POLL_MS = 50;

/** Opens `count` channels of `transport`: { read, write } fds, both non-blocking. */
export function openChannels(transport, count) {
  const channels = [];
  if (transport === 'tcp') {
    const listener = listen('127.0.0.1', 0, { backlog: 4096 });
    const { port } = localAddress(listener);
    try {
      for (let i = 0; i < count; i++) {
        const write = connect('127.0.0.1', port);
        let accepted = accept(listener);
        // Loopback completes the handshake inside connect(); the wait is only a safety net.
        for (let tries = 0; !accepted && tries < 1000; tries++) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
          accepted = accept(listener);
        }
        if (!accepted) throw new Error(`tcp connection ${i} was not accepted within 1 s`);
        setNoDelay(write);  // 1-byte writes must not wait for a delayed ACK (as in C++)
        channels.push({ read: accepted.fd, write });
      }
    } finally {
      close(listener);
    }
  } else {
    for (let i = 0; i < count; i++) {
      const [read, write] = transport === 'unix' ? socketpair() : pipe();
      channels.push({ read, write });
    }
  }
  return channels;
}

export function closeChannels(channels) {
  for (const c of channels) {
    close(c.read);
    close(c.write);
  }
}

function drainAll(channels, buf) {
  for (const c of channels) while (read(c.read, buf)) { /* until EAGAIN (null) or EOF (0) */ }
}

// The C++ writer, on the write ends passed as its fds 3.., until its stdin closes.
function startWriter(binary, channels, placement) {
  const args = ['--writer-fds', `3-${2 + channels.length}`, '--placement', placement];
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'inherit', ...channels.map((c) => c.write)] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  return {
    async stop() {
      child.stdin.end();
      const [code] = await once(child, 'exit');
      if (code !== 0) throw new Error(`events_bench writer exited with ${code}`);
      return JSON.parse(out);
    },
  };
}

function register(queue, transport, channels, edge) {
  const type = transport === 'pipe' ? KEVENT_PIPE : KEVENT_SOCKET;
  const reqFlags = KEVENT_REQ_ALWAYS_QUEUE | (edge ? KEVENT_REQ_ET : 0);
  const adds = channels.map((c, i) => ({ id: c.read, type, event: KEVENT_SOCKET_RECV, reqFlags, user: i }));
  queue.ctl(KEVENT_CTL_ADD, adds);
  const broken = adds.find((ev) => ev.retFlags & KEVENT_RET_BROKEN);
  if (broken) throw new Error(`kevent_ctl add failed: ${broken.code}`);
}

// Blocks this thread for the whole row (the writer is another process): the loop is the
// bench, as a worker thread parked in getEvents/wait would run it. The process's CPU time is
// the reader's: Node's other threads sit idle meanwhile.
function readFor(nextBatch, edge, warmupMs, seconds) {
  const buf = Buffer.allocUnsafe(READ_BYTES);
  const countFrom = performance.now() + warmupMs;
  const end = countFrom + seconds * 1000;
  let reads = 0;
  let started = false;
  let t0 = countFrom;
  let cpu0 = process.cpuUsage();
  for (;;) {
    const now = performance.now();
    if (!started && now >= countFrom) {
      started = true;
      reads = 0;
      t0 = now;
      cpu0 = process.cpuUsage();
    }
    if (now >= end) {
      const cpu = process.cpuUsage(cpu0);
      return { eventsPerSec: reads / ((now - t0) / 1000), readerNs: reads ? ((cpu.user + cpu.system) * 1000) / reads : 0 };
    }
    for (const ev of nextBatch()) {
      let n = read(ev.id, buf);
      while (edge && n === READ_BYTES) n = read(ev.id, buf);  // ET: empty it, as the C++ reader does
      if (n) reads++;
    }
  }
}

/** Runs one JS row; returns { eventsPerSec, readerNs (CPU per event), writesPerSec }. */
export async function runJsRow(row, transport, channels, { binary, warmup, seconds, placement }) {
  const edge = row.endsWith('-et');
  const useRing = row.startsWith('js-ring');
  const queue = new Queue({ ringSize: useRing ? 4 * MAX_EVENTS : 0 });
  try {
    register(queue, transport, channels, edge);
    const nextBatch = useRing
      ? () => {
        queue.wait(MAX_EVENTS, queue.ring.uidx, POLL_MS);
        return queue.ring.take();
      }
      : () => queue.getEvents(1, MAX_EVENTS, POLL_MS);
    const writer = startWriter(binary, channels, placement);
    const { eventsPerSec, readerNs } = readFor(nextBatch, edge, warmup * 1000, seconds);
    const { writes, seconds: writerSeconds } = await writer.stop();
    drainAll(channels, Buffer.allocUnsafe(4096));
    return { eventsPerSec, readerNs, writesPerSec: writes / writerSeconds };
  } finally {
    queue.close();
  }
}
