// ab and wrk print text; these are outputs they printed here, and what the harness reads from them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAb, parseWrk } from '../dist/index.js';
import { kernelCaps, cellCaps } from '../dist/run.js';
import { splitCpus, cpuList } from '../dist/machine.js';

const AB = `Concurrency Level:      50
Time taken for tests:   0.715 seconds
Complete requests:      2000
Failed requests:        3
   (Connect: 0, Receive: 0, Length: 3, Exceptions: 0)
Non-2xx responses:      2
Keep-Alive requests:    1990
Total transferred:      160000 bytes
Requests per second:    2795.61 [#/sec] (mean)
Transfer rate:          218.41 [Kbytes/sec] received

Percentage of the requests served within a certain time (ms)
  50%     14
  66%     21
  90%     33
  99%     42
 100%     49 (longest request)
`;

const WRK = `Running 1s test @ http://127.0.0.1:18080/
  1 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.19ms    1.92ms  16.51ms   90.13%
    Req/Sec    31.85k    14.77k   55.58k    60.00%
  Latency Distribution
     50%  414.00us
     75%    1.05ms
     90%    3.07ms
     99%    9.96ms
  31812 requests in 1.01s, 3.85MB read
  Socket errors: connect 0, read 2, write 1, timeout 4
  Non-2xx or 3xx responses: 5
Requests/sec:  31605.93
Transfer/sec:      3.83MB
`;

test('parseAb reads rate, failures, keep-alive count and percentiles', () => {
  const r = parseAb(AB);
  assert.equal(r.rps, 2795.61);
  assert.equal(r.complete, 2000);
  assert.equal(r.failed, 3);
  assert.deepEqual(r.failedBy, { connect: 0, receive: 0, length: 3, exceptions: 0 });
  assert.equal(r.non2xx, 2);
  assert.equal(r.keepAliveRequests, 1990);
  assert.deepEqual(r.percentiles, { 50: 14, 66: 21, 90: 33, 99: 42, 100: 49 });
  assert.throws(() => parseAb('apr_socket_recv: Connection refused (111)'), /ab printed no result/);
});

test('parseWrk converts units and counts socket errors', () => {
  const r = parseWrk(WRK);
  assert.equal(r.requests, 31812);
  assert.equal(r.rps, 31605.93);
  assert.ok(Math.abs(r.latencyMs.p50 - 0.414) < 1e-9);
  assert.equal(r.latencyMs.p99, 9.96);
  assert.equal(r.latencyMs.max, 16.51);
  assert.equal(r.socketErrors, 3);
  assert.equal(r.timeouts, 4);
  assert.equal(r.non2xx, 5);
  assert.ok(Math.abs(r.bytes - 3.85 * 1024 * 1024) < 1);
});

test('cores are split between servers and load; kernel caps are named', () => {
  assert.deepEqual(splitCpus(2), { serverCpus: '0', loadCpus: '1', threads: 1 });
  assert.deepEqual(splitCpus(8), { serverCpus: '0-3', loadCpus: '4-7', threads: 4 });
  assert.deepEqual(cpuList('0-3,6'), [0, 1, 2, 3, 6]);
  const machine = { somaxconn: 4096, fdHard: 20000, portRange: [32768, 60999], tcpTwReuse: 0 };
  const w = { concurrency: 8000, keepAlive: false };
  const caps = kernelCaps(w, machine);
  assert.equal(caps.length, 2);
  assert.match(caps[0], /somaxconn 4096/);
  assert.match(caps[1], /tcp_tw_reuse=0/);
  assert.deepEqual(kernelCaps({ concurrency: 100, keepAlive: true }, machine), []);
});

test('a cell is flagged when the load side or other processes limit it', () => {
  const machine = { serverCpus: '0', loadCpus: '1' };
  const base = { loadCpu: 0.3, serverCpu: 0.9, otherOnLoadCores: 0, otherOnServerCores: 0, errorKinds: {} };
  assert.deepEqual(cellCaps(base, machine), []);
  assert.match(cellCaps({ ...base, loadCpu: 0.95, serverCpu: 0.4 }, machine)[0], /capped by the load generator/);
  assert.match(cellCaps({ ...base, loadCpu: 0.6, otherOnLoadCores: 0.35, serverCpu: 0.4 }, machine)[0], /capped on the load side/);
  assert.match(cellCaps({ ...base, otherOnServerCores: 0.3 }, machine)[0], /other processes used 30% of the server/);
  assert.match(cellCaps({ ...base, errorKinds: { receive: 2, length: 0 } }, machine)[0], /errors by kind: receive 2$/);
});
