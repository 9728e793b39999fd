// A worker thread that sends `count` pipelined GETs of `target` on one keep-alive connection
// and waits for every response, so the main thread can stay blocked (Atomics.wait) meanwhile.
// workerData: { port, count, target, flag }. Starts once flag[1] is set (so the main thread
// can be blocked before the first request); sets flag[0] = responses seen and notifies.
import net from 'node:net';
import { workerData } from 'node:worker_threads';

const { port, count, target, flag } = workerData;
Atomics.wait(flag, 1, 0, 15000);
const sock = net.connect(port, '127.0.0.1');
let text = '';
let seen = 0;
const done = () => {
  Atomics.store(flag, 0, seen || -1);
  Atomics.notify(flag, 0);
  sock.destroy();
};
sock.on('connect', () => sock.write(`GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`.repeat(count)));
sock.setEncoding('latin1');
sock.on('data', (d) => {
  text += d;
  // Count status lines as they arrive; keep only a tail that may hold a split one.
  const parts = text.split('HTTP/1.1 ');
  seen += parts.length - 1;
  text = parts[parts.length - 1].slice(-16);
  if (seen >= count) done();
});
sock.on('error', done);
sock.on('close', done);
