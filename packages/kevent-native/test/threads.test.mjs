// Driving a queue from Node's main thread without blocking it, and blocking in worker threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k from '../dist/index.js';

function parkWorker(q, call) {
  const w = new Worker(new URL('../test-support/parked-worker.mjs', import.meta.url), { workerData: { shared: q.share(), call } });
  const exited = once(w, 'exit');
  const messages = [];
  const next = () => new Promise((resolve) => w.once('message', resolve));
  return { w, exited, messages, next };
}

for (const call of ['getEvents', 'wait']) {
  test(`KEVENT_CTL_READY with no events wakes a thread parked in ${call}`, async () => {
    const q = new k.Queue({ ringSize: 16 });
    const p = parkWorker(q, call);
    assert.equal(await p.next(), 'parked');
    const reply = p.next();
    await sleep(50); // give it time to block; waking it early just makes the call return sooner
    assert.equal(q.ctl(k.KEVENT_CTL_READY, []), 0);
    const { result } = await reply;
    assert.deepEqual(result, call === 'wait' ? 0 : [], 'woken with no events');
    await p.exited;
    q.close();
  });
}

test('closing a queue wakes a parked thread with EBADF', async () => {
  const q = new k.Queue({ ringSize: 0 });
  const p = parkWorker(q, 'getEvents');
  assert.equal(await p.next(), 'parked');
  const reply = p.next();
  await sleep(50);
  q.close();
  assert.deepEqual(await reply, { code: 'EBADF' });
  await p.exited;
});

test('onReady delivers events on the main thread while the event loop keeps running', async () => {
  const q = new k.Queue();
  const [r, w] = k.pipe();
  q.ctl(k.KEVENT_CTL_ADD, [{ id: r, type: k.KEVENT_PIPE, event: k.KEVENT_SOCKET_RECV, reqFlags: k.KEVENT_REQ_ALWAYS_QUEUE, user: 1 }]);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  const got = new Promise((resolve) => q.onReady((events) => {
    k.read(r, Buffer.alloc(64));
    resolve(events);
  }));
  await sleep(20);
  const ticksBefore = ticks;
  assert.ok(ticksBefore > 0, 'timers run while the queue is watched');
  k.write(w, Buffer.from('ping'));
  const events = await got;
  clearInterval(ticker);
  assert.equal(events.length, 1);
  assert.equal(events[0].user, 1);
  q.offReady();
  [r, w].forEach(k.close);
  q.close();
});

test('an unref\'d watcher does not keep the process alive; a worker sees events posted from main', async () => {
  const q = new k.Queue();
  q.onReady(() => {}).unref();
  q.ctl(k.KEVENT_CTL_ADD, [{ id: 1, type: k.KEVENT_USER, event: k.KEVENT_USER_NOTIFY, user: 5 }]);
  const p = parkWorker(q, 'getEvents');
  assert.equal(await p.next(), 'parked');
  const reply = p.next();
  q.offReady(); // the main thread stops draining, so the worker gets the event
  q.ctl(k.KEVENT_CTL_READY, [{ id: 1, type: k.KEVENT_USER, user: 5, retData: 8 }]);
  const { result } = await reply;
  assert.equal(result[0].retData, 8);
  await p.exited;
  q.close();
});
