// accept/recv/send readiness on real TCP sockets, level- vs edge-triggered, and one-shot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k from '../dist/index.js';
import { tcpPair, eventually, drain, fill } from '../test-support/helpers.mjs';

const { KEVENT_CTL_ADD, KEVENT_CTL_REMOVE, KEVENT_SOCKET, KEVENT_SOCKET_ACCEPT, KEVENT_SOCKET_RECV, KEVENT_SOCKET_SEND,
  KEVENT_REQ_ET, KEVENT_REQ_ONESHOT, KEVENT_REQ_ALWAYS_QUEUE, KEVENT_RET_DONE, KEVENT_RET_BROKEN } = k;

test('a pending connection on a listening socket is an ACCEPT event', async () => {
  const q = new k.Queue({ ringSize: 0 });
  const lfd = k.listen('127.0.0.1', 0);
  const { port } = k.localAddress(lfd);
  const req = { id: lfd, type: KEVENT_SOCKET, event: KEVENT_SOCKET_ACCEPT, reqFlags: KEVENT_REQ_ALWAYS_QUEUE, user: 7 };
  assert.equal(q.ctl(KEVENT_CTL_ADD, [req]), 1);
  assert.equal(req.retFlags, 0, 'nothing pending yet, so it is queued');
  assert.deepEqual(q.getEvents(0, 8, 0), [], 'no event before a client connects');
  const client = k.connect('127.0.0.1', port);
  const [ev] = q.getEvents(1, 8, 5000);
  assert.equal(ev.type, KEVENT_SOCKET);
  assert.equal(ev.id, lfd);
  assert.equal(ev.event, KEVENT_SOCKET_ACCEPT);
  assert.equal(ev.user, 7);
  assert.ok(ev.retFlags & KEVENT_RET_DONE);
  const conn = k.accept(lfd);
  assert.ok(conn.fd > 0);
  assert.equal(conn.address, '127.0.0.1');
  assert.equal(k.accept(lfd), null, 'a second accept finds nothing (EAGAIN)');
  [conn.fd, client, lfd].forEach(k.close);
  q.close();
});

test('level-triggered RECV repeats until the data is read', async () => {
  const q = new k.Queue({ ringSize: 0 });
  const p = await tcpPair();
  q.ctl(KEVENT_CTL_ADD, [{ id: p.server, type: KEVENT_SOCKET, event: KEVENT_SOCKET_RECV, reqFlags: KEVENT_REQ_ALWAYS_QUEUE }]);
  k.send(p.client, Buffer.from('hello'));
  assert.equal(q.getEvents(1, 8, 5000).length, 1);
  assert.equal(q.getEvents(1, 8, 5000).length, 1, 'still readable, so reported again');
  assert.equal(drain(p.server), 5);
  assert.deepEqual(q.getEvents(0, 8, 0), [], 'nothing once read');
  p.close();
  q.close();
});

test('edge-triggered RECV fires once per arrival (KEVENT_REQ_ET)', async () => {
  const q = new k.Queue({ ringSize: 0 });
  const p = await tcpPair();
  q.ctl(KEVENT_CTL_ADD, [{ id: p.server, type: KEVENT_SOCKET, event: KEVENT_SOCKET_RECV,
    reqFlags: KEVENT_REQ_ET | KEVENT_REQ_ALWAYS_QUEUE }]);
  k.send(p.client, Buffer.from('one'));
  assert.equal(q.getEvents(1, 8, 5000).length, 1);
  assert.deepEqual(q.getEvents(0, 8, 0), [], 'unread data does not fire again');
  k.send(p.client, Buffer.from('two'));
  assert.equal(q.getEvents(1, 8, 5000).length, 1, 'new data is a new edge');
  assert.equal(drain(p.server), 6);
  p.close();
  q.close();
});

test('a one-shot request fires once and is then gone (KEVENT_REQ_ONESHOT)', async () => {
  const q = new k.Queue({ ringSize: 0 });
  const p = await tcpPair();
  const req = { id: p.server, type: KEVENT_SOCKET, event: KEVENT_SOCKET_RECV, reqFlags: KEVENT_REQ_ONESHOT | KEVENT_REQ_ALWAYS_QUEUE, user: 1 };
  q.ctl(KEVENT_CTL_ADD, [req]);
  k.send(p.client, Buffer.from('x'));
  assert.equal(q.getEvents(1, 8, 5000).length, 1);
  k.send(p.client, Buffer.from('y'));
  assert.deepEqual(q.getEvents(0, 8, 0), [], 'no second event');
  const removal = { id: p.server, type: KEVENT_SOCKET, user: 1 };
  q.ctl(KEVENT_CTL_REMOVE, [removal]);
  assert.ok(removal.retFlags & KEVENT_RET_BROKEN, 'the registration was already removed');
  assert.equal(removal.code, 'ENOENT');
  p.close();
  q.close();
});

test('SEND fires when a full socket buffer drains', async () => {
  const q = new k.Queue({ ringSize: 0 });
  const p = await tcpPair();
  const sent = fill(p.client);
  assert.ok(sent > 0);
  q.ctl(KEVENT_CTL_ADD, [{ id: p.client, type: KEVENT_SOCKET, event: KEVENT_SOCKET_SEND, reqFlags: KEVENT_REQ_ALWAYS_QUEUE }]);
  assert.deepEqual(q.getEvents(0, 8, 0), [], 'not writable while full');
  let received = 0;
  const [ev] = await eventually(() => {
    received += drain(p.server);
    const got = q.getEvents(0, 8, 0);
    return got.length ? got : null;
  }, 'SEND readiness');
  assert.equal(ev.event, KEVENT_SOCKET_SEND);
  assert.ok(received > 0);
  p.close();
  q.close();
});

test('a peer reset is reported on RECV and recv/send fail with a code', async () => {
  const q = new k.Queue({ ringSize: 0 });
  const p = await tcpPair();
  q.ctl(KEVENT_CTL_ADD, [{ id: p.server, type: KEVENT_SOCKET, event: KEVENT_SOCKET_RECV, reqFlags: KEVENT_REQ_ALWAYS_QUEUE }]);
  k.close(p.client);
  const [ev] = q.getEvents(1, 8, 5000);
  assert.equal(ev.event, KEVENT_SOCKET_RECV);
  assert.equal(k.recv(p.server, Buffer.alloc(16)), 0, 'end of stream');
  // Writing into a closed peer: the first send may be accepted; the RST makes a later one fail.
  const err = await eventually(() => {
    try { k.send(p.server, Buffer.from('late')); return null; } catch (e) { return e; }
  }, 'EPIPE/ECONNRESET');
  assert.ok(['EPIPE', 'ECONNRESET'].includes(err.code), err.code);
  q.close();
  k.close(p.server);
  k.close(p.lfd);
});
