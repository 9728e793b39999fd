// KEVENT_REQ_ALWAYS_QUEUE, KEVENT_REQ_READY and KEVENT_REQ_LAST_CHECK as the seed defines them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k from '../dist/index.js';

const { KEVENT_CTL_ADD, KEVENT_CTL_REMOVE, KEVENT_PIPE, KEVENT_SOCKET_RECV, KEVENT_RET_DONE, KEVENT_REQ_ALWAYS_QUEUE,
  KEVENT_REQ_READY, KEVENT_REQ_LAST_CHECK } = k;

test('a request ready at enqueue time comes straight back and is not queued; ALWAYS_QUEUE queues it', () => {
  const q = new k.Queue({ ringSize: 0 });
  const [r, w] = k.pipe();
  k.write(w, Buffer.from('ready'));
  const plain = { id: r, type: KEVENT_PIPE, event: KEVENT_SOCKET_RECV, user: 1 };
  q.ctl(KEVENT_CTL_ADD, [plain]);
  assert.equal(plain.retFlags, KEVENT_RET_DONE, 'done at once');
  assert.deepEqual(q.getEvents(0, 4, 0), [], 'and not queued');
  const removal = { id: r, type: KEVENT_PIPE, user: 1 };
  q.ctl(KEVENT_CTL_REMOVE, [removal]);
  assert.equal(removal.code, 'ENOENT', 'nor registered');

  const queued = { id: r, type: KEVENT_PIPE, event: KEVENT_SOCKET_RECV, reqFlags: KEVENT_REQ_ALWAYS_QUEUE, user: 2 };
  q.ctl(KEVENT_CTL_ADD, [queued]);
  assert.equal(queued.retFlags, 0);
  const [ev] = q.getEvents(1, 4, 1000);
  assert.equal(ev.user, 2);
  [r, w].forEach(k.close);
  q.close();
});

test('KEVENT_REQ_READY marks a request ready at enqueue time', () => {
  const q = new k.Queue({ ringSize: 0 });
  q.ctl(KEVENT_CTL_ADD, [{ id: 1, type: k.KEVENT_USER, event: k.KEVENT_USER_NOTIFY, reqFlags: KEVENT_REQ_READY, user: 3 }]);
  const [ev] = q.getEvents(0, 4, 0);
  assert.equal(ev.user, 3);
  q.close();
});

test('KEVENT_REQ_LAST_CHECK drops a ready mark the fd no longer backs, and keeps the registration', () => {
  const q = new k.Queue({ ringSize: 0 });
  const [r1, w1] = k.pipe();
  const [r2, w2] = k.pipe();
  // Both empty pipes are marked ready by REQ_READY; only the last check sees they are not.
  q.ctl(KEVENT_CTL_ADD, [
    { id: r1, type: KEVENT_PIPE, event: KEVENT_SOCKET_RECV, reqFlags: KEVENT_REQ_READY | KEVENT_REQ_LAST_CHECK, user: 1 },
    { id: r2, type: KEVENT_PIPE, event: KEVENT_SOCKET_RECV, reqFlags: KEVENT_REQ_READY, user: 2 },
  ]);
  assert.deepEqual(q.getEvents(0, 4, 0).map((e) => e.user), [2]);
  k.write(w1, Buffer.from('now'));
  assert.deepEqual(q.getEvents(1, 4, 1000).map((e) => e.user), [1], 'still registered: real data reports it');
  [r1, w1, r2, w2].forEach(k.close);
  q.close();
});

test('KEVENT_CTL_MODIFY changes the events of a registration and re-checks readiness', () => {
  const q = new k.Queue({ ringSize: 0 });
  const [r, w] = k.pipe();
  q.ctl(KEVENT_CTL_ADD, [{ id: w, type: k.KEVENT_POLL, event: k.KEVENT_POLL_POLLIN, reqFlags: KEVENT_REQ_ALWAYS_QUEUE, user: 4 }]);
  assert.deepEqual(q.getEvents(0, 4, 0), [], 'a write end never has input');
  const mod = { id: w, type: k.KEVENT_POLL, event: k.KEVENT_POLL_POLLOUT, reqFlags: KEVENT_REQ_ALWAYS_QUEUE, user: 4 };
  q.ctl(k.KEVENT_CTL_MODIFY, [mod]);
  assert.equal(mod.retFlags, KEVENT_RET_DONE);
  const [ev] = q.getEvents(1, 4, 1000);
  assert.ok(ev.event & k.KEVENT_POLL_POLLOUT);
  const missing = { id: r, type: k.KEVENT_POLL, event: k.KEVENT_POLL_POLLIN, user: 99 };
  q.ctl(k.KEVENT_CTL_MODIFY, [missing]);
  assert.equal(missing.code, 'ENOENT');
  [r, w].forEach(k.close);
  q.close();
});
