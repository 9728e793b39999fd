// The ring: kevent_wait copies events in, kevent_commit frees slots, and the overflow counter
// keeps a late committer from freeing slots that are not its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import * as k from '../dist/index.js';

const { KEVENT_CTL_ADD, KEVENT_CTL_READY, KEVENT_USER, KEVENT_USER_NOTIFY } = k;
const userEvent = (id, retData) => ({ id, type: KEVENT_USER, event: KEVENT_USER_NOTIFY, retData });

function readyMany(q, count, start = 0) {
  const batch = [];
  for (let i = 0; i < count; i++) {
    batch.push(userEvent(1, start + i));
    if (batch.length === 1000 || i === count - 1) q.ctl(KEVENT_CTL_READY, batch.splice(0));
  }
}

test('the ring header starts empty and wait copies events into slots', () => {
  const q = new k.Queue({ ringSize: 8 });
  assert.deepEqual([q.ring.kidx, q.ring.over, q.ring.size, q.ring.uidx, q.ring.used], [0, 0, 8, 0, 0]);
  q.ctl(KEVENT_CTL_ADD, [userEvent(1)]);
  readyMany(q, 3, 100);
  assert.equal(q.wait(8, 0, 1000), 3);
  assert.equal(q.ring.kidx, 3);
  assert.equal(q.ring.used, 3);
  assert.deepEqual([0, 1, 2].map((i) => q.ring.slot(i).retData), [100, 101, 102]);
  assert.equal(q.ring.slot(0).type, KEVENT_USER);
  assert.equal(q.commit(3, 0), 3);
  assert.equal(q.ring.used, 0);
  q.close();
});

test('wait with a full ring copies nothing and loses nothing', () => {
  const q = new k.Queue({ ringSize: 4 });
  q.ctl(KEVENT_CTL_ADD, [userEvent(1)]);
  readyMany(q, 10);
  assert.equal(q.wait(10, 0, 1000), 4, 'only as many as fit');
  assert.equal(q.wait(10, 0, 0), 0, 'a full ring takes no more');
  const seen = q.ring.take().map((e) => e.retData);
  while (seen.length < 10) {
    assert.ok(q.wait(10, q.ring.uidx, 1000) > 0);
    seen.push(...q.ring.take().map((e) => e.retData));
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(q.ring.over >= 2, 'kidx wrapped');
  q.close();
});

test('wait returns at once when the caller\'s old_uidx is stale', () => {
  const q = new k.Queue({ ringSize: 4 });
  q.ctl(KEVENT_CTL_ADD, [userEvent(1)]);
  readyMany(q, 2);
  assert.equal(q.wait(1, 0, 1000), 1);
  q.ring.take();
  assert.equal(q.ring.uidx, 1);
  assert.equal(q.wait(4, 0, -1), 0, 'old_uidx 0 is behind the queue: no wait, no copy');
  q.close();
});

test('a commit with a stale overflow count changes nothing', () => {
  const q = new k.Queue({ ringSize: 4 });
  q.ctl(KEVENT_CTL_ADD, [userEvent(1)]);
  // A thread notes slot 2 at over 0, then sleeps while the ring goes round twice.
  readyMany(q, 2);
  q.wait(2, 0, 1000);
  const staleIndex = q.ring.kidx;
  const staleOver = q.ring.over;
  q.commit(staleIndex, staleOver);
  for (let round = 0; round < 2; round++) {
    readyMany(q, 4);
    q.wait(4, q.ring.uidx, 1000);
    q.ring.take();
  }
  readyMany(q, 3);
  assert.equal(q.wait(3, q.ring.uidx, 1000), 3);
  const before = [q.ring.uidx, q.ring.uover, q.ring.used];
  assert.equal(q.commit(staleIndex + 1, staleOver), 0, 'the sleeper frees nothing');
  assert.deepEqual([q.ring.uidx, q.ring.uover, q.ring.used], before);
  assert.equal(q.ring.take().length, 3, 'the three live events are still there');
  q.close();
});

test('commit past the last written event, or outside the ring, is an ERANGE error', () => {
  const q = new k.Queue({ ringSize: 4 });
  assert.throws(() => q.commit(1, 0), { code: 'ERANGE' });
  assert.throws(() => q.commit(4, 0), { code: 'ERANGE' });
  assert.throws(() => q.commit(-1, 0), { code: 'ERR_OUT_OF_RANGE' });
  q.close();
});

test('three worker threads sharing one ring process 100k events: none lost, none twice', async () => {
  const total = 100_000;
  const q = new k.Queue({ ringSize: 256 });
  q.ctl(KEVENT_CTL_ADD, [userEvent(1)]);
  const tally = new SharedArrayBuffer(4 * (total + 1));
  const workers = [0, 1, 2].map(() => new Worker(new URL('../test-support/ring-worker.mjs', import.meta.url),
    { workerData: { shared: q.share(), tally, total } }));
  const done = workers.map((w) => once(w, 'message'));
  readyMany(q, total);
  const shares = (await Promise.all(done)).map(([m]) => m.mine);
  const seen = new Int32Array(tally);
  assert.equal(seen[0], total);
  let once_ = 0;
  for (let i = 1; i <= total; i++) if (seen[i] === 1) once_++;
  assert.equal(once_, total, 'every event exactly once');
  assert.equal(shares.reduce((a, b) => a + b), total);
  q.close();
});
