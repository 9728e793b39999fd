// A worker sharing a queue and its ring: waits for events into the ring, takes them under the
// ring's lock, and marks each payload seen in a shared tally.
import { parentPort, workerData } from 'node:worker_threads';
import * as k from '../dist/index.js';

const { shared, tally, total } = workerData;
const seen = new Int32Array(tally);      // [taken, ...counts per sequence number]
const q = k.Queue.attach(shared);
let mine = 0;
while (Atomics.load(seen, 0) < total) {
  q.wait(64, q.ring.uidx, 20);
  for (const ev of q.ring.take()) {
    Atomics.add(seen, 1 + ev.retData, 1);
    Atomics.add(seen, 0, 1);
    mine++;
  }
}
parentPort.postMessage({ mine });
