// Every event source the seed lists besides sockets: timers, signals, pipes, poll, inodes, user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, unlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { constants as os } from 'node:os';
import path from 'node:path';
import * as k from '../dist/index.js';

const { KEVENT_CTL_ADD, KEVENT_CTL_REMOVE, KEVENT_CTL_READY, KEVENT_RET_BROKEN, KEVENT_RET_DONE, KEVENT_REQ_ONESHOT,
  KEVENT_REQ_ALWAYS_QUEUE } = k;

test('a one-shot relative timer fires once and its registration is gone', () => {
  const q = new k.Queue({ ringSize: 0 });
  q.ctl(KEVENT_CTL_ADD, [{ id: 20, type: k.KEVENT_TIMER, event: k.KEVENT_TIMER_FIRED, reqFlags: KEVENT_REQ_ONESHOT, user: 5 }]);
  const [ev] = q.getEvents(1, 4, 5000);
  assert.equal(ev.type, k.KEVENT_TIMER);
  assert.equal(ev.event, k.KEVENT_TIMER_FIRED);
  assert.equal(ev.user, 5);
  assert.equal(ev.retData, 1, 'one expiration');
  const removal = { id: 20, type: k.KEVENT_TIMER, user: 5 };
  q.ctl(KEVENT_CTL_REMOVE, [removal]);
  assert.equal(removal.code, 'ENOENT');
  q.close();
});

test('a periodic timer keeps firing until removed', () => {
  const q = new k.Queue({ ringSize: 0 });
  const req = { id: 5, type: k.KEVENT_TIMER, event: k.KEVENT_TIMER_FIRED, user: 1 };
  q.ctl(KEVENT_CTL_ADD, [req]);
  let fired = 0;
  for (let i = 0; i < 3; i++) for (const ev of q.getEvents(1, 4, 5000)) fired += ev.retData;
  assert.ok(fired >= 3);
  const removal = { ...req };
  q.ctl(KEVENT_CTL_REMOVE, [removal]);
  assert.equal(removal.retFlags, KEVENT_RET_DONE);
  assert.deepEqual(q.getEvents(0, 4, 30), [], 'no more after removal');
  q.close();
});

test('an absolute-time timer (KEVENT_FLAGS_ABSTIME) fires at that wall-clock time, not before', () => {
  const q = new k.Queue({ ringSize: 0 });
  const at = Date.now() + 40;
  q.ctl(KEVENT_CTL_ADD, [{ id: at, type: k.KEVENT_TIMER, event: k.KEVENT_TIMER_FIRED, flags: k.KEVENT_FLAGS_ABSTIME }]);
  const [ev] = q.getEvents(1, 1, 5000);
  assert.equal(ev.id, at);
  assert.ok(Date.now() >= at, 'not before the requested time');
  q.close();
});

test('getEvents with KEVENT_FLAGS_ABSTIME treats the timeout as a wall-clock deadline', () => {
  const q = new k.Queue({ ringSize: 0 });
  const deadline = Date.now() + 30;
  assert.deepEqual(q.getEvents(1, 1, deadline, k.KEVENT_FLAGS_ABSTIME), []);
  assert.ok(Date.now() >= deadline - 1);
  assert.deepEqual(q.getEvents(1, 1, Date.now() - 1000, k.KEVENT_FLAGS_ABSTIME), [], 'a past deadline returns at once');
  q.close();
});

test('a signal sent to the process arrives as an event, not as a crash', () => {
  const q = new k.Queue({ ringSize: 0 });
  const signo = os.signals.SIGUSR2; // default action would terminate the process
  q.ctl(KEVENT_CTL_ADD, [{ id: signo, type: k.KEVENT_SIGNAL, event: k.KEVENT_SIGNAL_DELIVERY, user: 2 }]);
  process.kill(process.pid, 'SIGUSR2');
  process.kill(process.pid, 'SIGUSR2');
  let count = 0;
  while (count < 2) for (const ev of q.getEvents(1, 4, 5000)) {
    assert.equal(ev.type, k.KEVENT_SIGNAL);
    assert.equal(ev.id, signo);
    count += ev.retData;
  }
  assert.equal(count, 2);
  q.close();
});

test('pipes: RECV when data arrives, SEND when there is room, POLL with poll bits', () => {
  const q = new k.Queue({ ringSize: 0 });
  const [r, w] = k.pipe();
  q.ctl(KEVENT_CTL_ADD, [
    { id: r, type: k.KEVENT_PIPE, event: k.KEVENT_SOCKET_RECV, reqFlags: KEVENT_REQ_ALWAYS_QUEUE, user: 1 },
    { id: w, type: k.KEVENT_PIPE, event: k.KEVENT_SOCKET_SEND, reqFlags: KEVENT_REQ_ALWAYS_QUEUE | KEVENT_REQ_ONESHOT, user: 2 },
  ]);
  const first = q.getEvents(1, 4, 5000);
  assert.deepEqual(first.map((e) => e.user), [2], 'the empty pipe is writable, not readable');
  k.write(w, Buffer.from('data'));
  const [ev] = q.getEvents(1, 4, 5000);
  assert.equal(ev.user, 1);
  assert.equal(ev.event, k.KEVENT_SOCKET_RECV);
  assert.equal(k.read(r, Buffer.alloc(16)), 4);
  const poll = { id: w, type: k.KEVENT_POLL, event: k.KEVENT_POLL_POLLOUT, user: 3 };
  q.ctl(KEVENT_CTL_ADD, [poll]);
  assert.ok(poll.retFlags & KEVENT_RET_DONE, 'already writable: comes straight back, as the seed does');
  assert.ok(poll.retData & k.KEVENT_POLL_POLLOUT);
  k.close(r);
  k.close(w);
  q.close();
});

test('inode events: a file created and removed in a watched directory', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kevent-inode-'));
  const q = new k.Queue({ ringSize: 0 });
  q.ctl(KEVENT_CTL_ADD, [{ id: dir, type: k.KEVENT_INODE, event: k.KEVENT_INODE_CREATE | k.KEVENT_INODE_REMOVE, user: 9 }]);
  const file = path.join(dir, 'a.txt');
  writeFileSync(file, 'x');
  const [created] = q.getEvents(1, 8, 5000);
  assert.equal(created.id, dir);
  assert.equal(created.event, k.KEVENT_INODE_CREATE);
  unlinkSync(file);
  const [removed] = q.getEvents(1, 8, 5000);
  assert.equal(removed.event, k.KEVENT_INODE_REMOVE);
  assert.equal(removed.user, 9);
  q.close();
  rmSync(dir, { recursive: true });
});

test('inode events: writing to a file in a watched directory is KEVENT_INODE_MODIFY', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kevent-inode-'));
  const file = path.join(dir, 'page.html');
  writeFileSync(file, 'old');
  const q = new k.Queue({ ringSize: 0 });
  q.ctl(KEVENT_CTL_ADD, [{ id: dir, type: k.KEVENT_INODE, event: k.KEVENT_INODE_MODIFY, user: 3 }]);
  writeFileSync(file, 'new content');
  const events = q.getEvents(1, 8, 5000);
  assert.ok(events.length >= 1);
  for (const ev of events) {
    assert.equal(ev.id, dir);
    assert.equal(ev.user, 3);
    assert.equal(ev.event, k.KEVENT_INODE_MODIFY, 'only the bits asked for');
    assert.equal(ev.retFlags & KEVENT_RET_BROKEN, 0);
  }
  // Creating another file is not a modification, and CREATE was not asked for: nothing.
  q.getEvents(0, 8, 0);
  writeFileSync(path.join(dir, 'other.html'), '');
  const afterCreate = q.getEvents(0, 8, 100);
  assert.ok(afterCreate.every((ev) => ev.event === k.KEVENT_INODE_MODIFY), 'no CREATE bit without asking');
  q.close();
  rmSync(dir, { recursive: true });
});

test('inode events: a watched directory removed is BROKEN with ENOENT', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kevent-inode-'));
  const q = new k.Queue({ ringSize: 0 });
  q.ctl(KEVENT_CTL_ADD, [{ id: dir, type: k.KEVENT_INODE, event: k.KEVENT_INODE_MODIFY, user: 4 }]);
  rmSync(dir, { recursive: true });
  const [gone] = q.getEvents(1, 8, 5000);
  assert.ok(gone.retFlags & KEVENT_RET_BROKEN);
  assert.equal(gone.user, 4);
  assert.equal(gone.code, 'ENOENT');
  q.close();
});

test('user events carry a payload through KEVENT_CTL_READY; unknown ones are BROKEN', () => {
  const q = new k.Queue({ ringSize: 0 });
  q.ctl(KEVENT_CTL_ADD, [{ id: 77, type: k.KEVENT_USER, event: k.KEVENT_USER_NOTIFY, user: 2n ** 63n + 5n }]);
  const ready = [{ id: 77, type: k.KEVENT_USER, user: 2n ** 63n + 5n, retData: 4242 }, { id: 78, type: k.KEVENT_USER }];
  assert.equal(q.ctl(KEVENT_CTL_READY, ready), 2);
  assert.equal(ready[0].retFlags, KEVENT_RET_DONE);
  assert.ok(ready[1].retFlags & KEVENT_RET_BROKEN);
  const [ev] = q.getEvents(1, 4, 1000);
  assert.equal(ev.user, 2n ** 63n + 5n, 'a 64-bit bigint user survives the round trip');
  assert.equal(ev.retData, 4242);
  q.close();
});
