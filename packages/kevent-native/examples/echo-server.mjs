// An echo server on Node's main thread, driven by a kevent queue: accept and recv events,
// non-blocking socket calls, no node:net. Run: node examples/echo-server.mjs [port]
import {
  Queue, listen, localAddress, accept, recv, send, close,
  KEVENT_CTL_ADD, KEVENT_CTL_REMOVE, KEVENT_SOCKET, KEVENT_SOCKET_ACCEPT, KEVENT_SOCKET_RECV,
  KEVENT_REQ_ALWAYS_QUEUE,
} from '@kevent/native';

const queue = new Queue();
const server = listen('127.0.0.1', Number(process.argv[2] ?? 0));
queue.ctl(KEVENT_CTL_ADD, [{ id: server, type: KEVENT_SOCKET, event: KEVENT_SOCKET_ACCEPT, reqFlags: KEVENT_REQ_ALWAYS_QUEUE }]);
console.log(`echo server on 127.0.0.1:${localAddress(server).port}`);

const buffer = Buffer.alloc(64 * 1024);
queue.onReady((events) => {
  for (const ev of events) {
    if (ev.id === server) {
      for (let conn; (conn = accept(server)) !== null;) {
        queue.ctl(KEVENT_CTL_ADD, [{ id: conn.fd, type: KEVENT_SOCKET, event: KEVENT_SOCKET_RECV, reqFlags: KEVENT_REQ_ALWAYS_QUEUE }]);
      }
      continue;
    }
    const fd = ev.id;
    const n = recv(fd, buffer);
    if (n === null) continue;            // spurious: nothing to read after all
    if (n > 0) {
      send(fd, buffer.subarray(0, n));    // a real server would queue what send() could not take
      continue;
    }
    queue.ctl(KEVENT_CTL_REMOVE, [{ id: fd, type: KEVENT_SOCKET }]);
    close(fd);                            // n === 0: the client closed
  }
});
