// One fd with several requests (different `user`), some oneshot: a delivery removes exactly
// the oneshot ones and keeps reporting the others. Guards the in-place walk in DispatchFd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Queue, pipe, write, close,
  KEVENT_CTL_ADD, KEVENT_PIPE, KEVENT_SOCKET_RECV, KEVENT_REQ_ALWAYS_QUEUE, KEVENT_REQ_ONESHOT,
} from '../dist/index.js';

const request = (fd, user, flags) => ({
  id: fd, type: KEVENT_PIPE, event: KEVENT_SOCKET_RECV, reqFlags: KEVENT_REQ_ALWAYS_QUEUE | flags, user,
});
const users = (events) => events.map((e) => e.user).sort();

test('oneshot and persistent requests on one fd are delivered and dropped correctly', () => {
  const q = new Queue();
  const [r, w] = pipe();
  const [r2, w2] = pipe();
  try {
    q.ctl(KEVENT_CTL_ADD, [
      request(r, 1, KEVENT_REQ_ONESHOT), request(r, 2, 0), request(r, 3, KEVENT_REQ_ONESHOT), request(r, 4, 0),
    ]);
    write(w, Buffer.from('x'));
    assert.deepEqual(users(q.getEvents(0, 16, 0)), [1, 2, 3, 4]);
    assert.deepEqual(users(q.getEvents(0, 16, 0)), [2, 4]);  // level-triggered, oneshots gone

    // An fd whose only request is oneshot (EPOLLONESHOT) fires once.
    q.ctl(KEVENT_CTL_ADD, [request(r2, 9, KEVENT_REQ_ONESHOT)]);
    write(w2, Buffer.from('x'));
    assert.deepEqual(users(q.getEvents(0, 16, 0)), [2, 4, 9]);
    assert.deepEqual(users(q.getEvents(0, 16, 0)), [2, 4]);
  } finally {
    q.close();
    for (const fd of [r, w, r2, w2]) close(fd);
  }
});
