// Bad input gets an error with a code, or KEVENT_RET_BROKEN on the event, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants as os } from 'node:os';
import * as k from '../dist/index.js';

const { KEVENT_CTL_ADD, KEVENT_RET_BROKEN } = k;

function add(q, ev) {
  q.ctl(KEVENT_CTL_ADD, [ev]);
  return ev;
}

test('closed, invalid and wrong-kind fds are BROKEN with the errno name', () => {
  const q = new k.Queue({ ringSize: 0 });
  const [r, w] = k.pipe();
  const closed = k.pipe();
  closed.forEach(k.close);
  const cases = [
    [{ id: 999999, type: k.KEVENT_SOCKET, event: k.KEVENT_SOCKET_RECV, reqFlags: k.KEVENT_REQ_ALWAYS_QUEUE }, 'EBADF'],
    [{ id: closed[0], type: k.KEVENT_PIPE, event: k.KEVENT_SOCKET_RECV, reqFlags: k.KEVENT_REQ_ALWAYS_QUEUE }, 'EBADF'],
    [{ id: r, type: k.KEVENT_SOCKET, event: k.KEVENT_SOCKET_RECV, reqFlags: k.KEVENT_REQ_ALWAYS_QUEUE }, 'ENOTSOCK'],
    [{ id: 3, type: 42, event: 1 }, 'ENOSYS'],
    [{ id: 3, type: k.KEVENT_AIO, event: 1 }, 'ENOSYS'],
    [{ id: r, type: k.KEVENT_PIPE, event: 0x40 }, 'EINVAL'],
    [{ id: r, type: k.KEVENT_PIPE, event: k.KEVENT_SOCKET_RECV, reqFlags: 0x1000 }, 'EINVAL'],
    [{ id: 0, type: k.KEVENT_TIMER, event: k.KEVENT_TIMER_FIRED }, 'EINVAL'],
    [{ id: os.signals.SIGKILL, type: k.KEVENT_SIGNAL, event: k.KEVENT_SIGNAL_DELIVERY }, 'EINVAL'],
    [{ id: os.signals.SIGSEGV, type: k.KEVENT_SIGNAL, event: k.KEVENT_SIGNAL_DELIVERY }, 'EINVAL'],
    [{ id: '/no/such/dir', type: k.KEVENT_INODE, event: k.KEVENT_INODE_CREATE }, 'ENOENT'],
  ];
  for (const [ev, code] of cases) {
    add(q, ev);
    assert.ok(ev.retFlags & KEVENT_RET_BROKEN, `${JSON.stringify(ev)} is broken`);
    assert.equal(ev.code, code, JSON.stringify(ev));
  }
  const dup = { id: 1, type: k.KEVENT_USER, event: 1 };
  add(q, dup);
  assert.equal(add(q, { ...dup }).code, 'EEXIST');
  const lt = add(q, { id: w, type: k.KEVENT_PIPE, event: k.KEVENT_SOCKET_SEND, reqFlags: k.KEVENT_REQ_ALWAYS_QUEUE, user: 1 });
  assert.equal(lt.retFlags, 0);
  const et = add(q, { id: w, type: k.KEVENT_PIPE, event: k.KEVENT_SOCKET_SEND, reqFlags: k.KEVENT_REQ_ALWAYS_QUEUE | k.KEVENT_REQ_ET, user: 2 });
  assert.equal(et.code, 'EINVAL', 'one trigger mode per fd and queue');
  [r, w].forEach(k.close);
  q.close();
});

test('malformed arguments throw TypeError/RangeError with a code', () => {
  const q = new k.Queue({ ringSize: 4 });
  assert.throws(() => new k.Queue({ ringSize: -1 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new k.Queue({ ringSize: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new k.Queue({ ringSize: 'big' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => q.ctl(7, []), { code: 'EINVAL' });
  assert.throws(() => q.ctl(KEVENT_CTL_ADD, [null]), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => q.ctl(KEVENT_CTL_ADD, [{ id: -1, type: k.KEVENT_USER, event: 1 }]), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => q.ctl(KEVENT_CTL_ADD, [{ id: 1, type: k.KEVENT_USER, event: 1, user: 1.5 }]), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => q.ctl(KEVENT_CTL_ADD, [{ id: 1, type: k.KEVENT_USER, event: 1, user: 2n ** 64n }]), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => q.ctl(KEVENT_CTL_ADD, [{ id: 'x\0y', type: k.KEVENT_INODE, event: 1 }]), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => q.getEvents(-1, 4, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => q.getEvents(5, 4, 0), { code: 'EINVAL' });
  assert.throws(() => q.getEvents(0, 0, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => q.getEvents(0, 4, -5), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => q.wait(1, -1, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => q.ring.slot(4), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => k.Queue.attach({ shareId: 987654, ring: null }), { code: 'EBADF' });
  assert.throws(() => k.Queue.attach(null), { code: 'ERR_INVALID_ARG_TYPE' });
  const noRing = new k.Queue({ ringSize: 0 });
  assert.throws(() => noRing.wait(1, 0, 0), { code: 'EINVAL' });
  noRing.close();
  q.close();
});

test('a closed queue refuses every call with EBADF, and attaching to it fails', () => {
  const q = new k.Queue({ ringSize: 4 });
  const shared = q.share();
  q.close();
  q.close(); // twice is harmless
  assert.throws(() => q.ctl(KEVENT_CTL_ADD, []), { code: 'EBADF' });
  assert.throws(() => q.getEvents(0, 1, 0), { code: 'EBADF' });
  assert.throws(() => q.wait(1, 0, 0), { code: 'EBADF' });
  assert.throws(() => q.commit(0, 0), { code: 'EBADF' });
  assert.throws(() => q.onReady(() => {}), { code: 'EBADF' });
  assert.throws(() => k.Queue.attach(shared), { code: 'EBADF' });
});

test('socket calls on bad fds throw with a code', () => {
  assert.throws(() => k.recv(999999, Buffer.alloc(4)), { code: 'EBADF', syscall: 'recv' });
  assert.throws(() => k.send(999999, Buffer.alloc(4)), { code: 'EBADF' });
  assert.throws(() => k.accept(999999), { code: 'EBADF' });
  assert.throws(() => k.close(999999), { code: 'EBADF' });
  assert.throws(() => k.recv(-1, Buffer.alloc(4)), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => k.recv(0, 'not a buffer'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => k.listen('example.com', 0), { code: 'EINVAL' });
  assert.throws(() => k.listen('127.0.0.1', 70000), { code: 'ERR_OUT_OF_RANGE' });
  const [r, w] = k.pipe();
  assert.throws(() => k.accept(r), { code: 'ENOTSOCK' });
  assert.equal(k.read(r, Buffer.alloc(4)), null, 'EAGAIN on an empty non-blocking pipe');
  [r, w].forEach(k.close);
});
