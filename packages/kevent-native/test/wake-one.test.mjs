// The seed's thundering-herd fix: a listening socket in several queues wakes one waiting thread
// per connection, unless KEVENT_REQ_WAKEUP_ALL asks for all. Counted as the kernel counts it:
// each worker's voluntary context switches (a woken thread that finds nothing sleeps again
// without returning from epoll_wait, so returns alone would hide the herd).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k from '../dist/index.js';

const WORKERS = 4;
const CONNECTIONS = 200;

async function herd(wakeAll) {
  const lfd = k.listen('127.0.0.1', 0, { backlog: 256 });
  const { port } = k.localAddress(lfd);
  const control = new SharedArrayBuffer(8);
  const ctl = new Int32Array(control);
  const workers = [];
  const queues = [];
  const exits = [];
  for (let i = 0; i < WORKERS; i++) {
    const w = new Worker(new URL('../test-support/accept-worker.mjs', import.meta.url), { workerData: { lfd, wakeAll, control } });
    const [{ share }] = await once(w, 'message');
    queues.push(k.Queue.attach(share));
    workers.push(w);
    exits.push(once(w, 'exit'));
  }
  const results = workers.map((w) => once(w, 'message').then(([m]) => m));
  await sleep(100); // let every worker park in epoll_wait; a late one only lowers the counts
  for (let i = 0; i < CONNECTIONS; i++) {
    const fd = k.connect('127.0.0.1', port);
    // One connection at a time, so each is one wakeup.
    for (let spins = 0; Atomics.load(ctl, 1) < i + 1; spins++) {
      if (spins > 5000) throw new Error('connection not accepted');
      await sleep(1);
    }
    k.close(fd);
  }
  Atomics.store(ctl, 0, 1);
  for (const q of queues) q.ctl(k.KEVENT_CTL_READY, []); // wake each parked worker to stop
  const stats = await Promise.all(results);
  await Promise.all(exits);
  k.close(lfd);
  const sum = (f) => stats.reduce((a, s) => a + s[f], 0);
  return {
    accepted: sum('accepted'),
    switchesPerConnection: sum('switches') / CONNECTIONS,
    returnsPerConnection: sum('returns') / CONNECTIONS,
    eagainPerConnection: sum('eagain') / CONNECTIONS,
    busiestShare: Math.max(...stats.map((s) => s.accepted)) / CONNECTIONS,
  };
}

test('wake-one wakes about one thread per connection; KEVENT_REQ_WAKEUP_ALL wakes every waiter', async (t) => {
  const one = await herd(false);
  const all = await herd(true);
  t.diagnostic(`wake-one: ${JSON.stringify(one)}`);
  t.diagnostic(`wake-all: ${JSON.stringify(all)}`);
  assert.equal(one.accepted, CONNECTIONS);
  assert.equal(all.accepted, CONNECTIONS);
  // Each connection costs the woken thread one sleep; with WAKEUP_ALL each of the 4 sleeps.
  assert.ok(one.switchesPerConnection < 2, `wake-one slept ${one.switchesPerConnection} times per connection`);
  assert.ok(all.switchesPerConnection > 2 * one.switchesPerConnection,
    `wake-all ${all.switchesPerConnection} vs wake-one ${one.switchesPerConnection} switches per connection`);
  assert.ok(one.eagainPerConnection <= all.eagainPerConnection);
});
