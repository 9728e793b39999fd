// A worker thread blocked in its own queue's getEvents, accepting from a listening socket that
// other workers' queues hold too. Reports its voluntary context switches (the kernel's count of
// times this thread slept), its returns from the wait, and accepts that found nothing (EAGAIN).
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import * as k from '../dist/index.js';

const { lfd, wakeAll, control } = workerData;
const STOP = 0;
const ACCEPTED = 1;
const ctl = new Int32Array(control);
const q = new k.Queue({ ringSize: 0 });
q.ctl(k.KEVENT_CTL_ADD, [{
  id: lfd, type: k.KEVENT_SOCKET, event: k.KEVENT_SOCKET_ACCEPT,
  reqFlags: k.KEVENT_REQ_ALWAYS_QUEUE | (wakeAll ? k.KEVENT_REQ_WAKEUP_ALL : 0),
}]);
const switches = () => Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'))[1]);

parentPort.postMessage({ share: q.share() });
let accepted = 0;
let eagain = 0;
let returns = 0;
const before = switches();
for (;;) {
  q.getEvents(1, 64, -1);
  if (Atomics.load(ctl, STOP)) break;
  returns++;
  let got = 0;
  for (let c; (c = k.accept(lfd)) !== null;) {
    k.close(c.fd);
    got++;
  }
  if (got === 0) eagain++;
  accepted += got;
  Atomics.add(ctl, ACCEPTED, got);
  Atomics.notify(ctl, ACCEPTED);
}
const measured = switches() - before;
parentPort.postMessage({ accepted, eagain, returns, switches: measured });
q.close();
