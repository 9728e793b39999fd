// A worker that parks in a blocking call on a shared queue and reports how it came back.
import { parentPort, workerData } from 'node:worker_threads';
import * as k from '../dist/index.js';

const q = k.Queue.attach(workerData.shared);
parentPort.postMessage('parked');
try {
  const result = workerData.call === 'wait' ? q.wait(16, q.ring.uidx, -1) : q.getEvents(1, 16, -1);
  parentPort.postMessage({ result });
} catch (error) {
  parentPort.postMessage({ code: error.code });
}
