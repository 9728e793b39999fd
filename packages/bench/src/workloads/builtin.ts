// The built-in HTTP workloads. Full mode is the published comparison; quick mode keeps every
// kind (each tool, keep-alive and not, static and hello) but with tiny loads, for the tests.
import { FILES, HELLO_BODY, HELLO_PATH } from '../docroot.js';
import { registerWorkloads } from './registry.js';
import type { LoadWorkload, Mode } from './types.js';

/** Requests for the seed's `ab -n N -c 8000`. */
const AB_REQUESTS = 50_000;
const AB_CONCURRENCY = 8000;

function ac(size: keyof typeof FILES | 'hello', c: number, keepAlive: boolean, durationSec: number, tool = 'autocannon', pipeline = 1): LoadWorkload {
  const hello = size === 'hello';
  const short = tool === 'autocannon' ? 'ac' : tool;
  const piped = pipeline > 1;
  return {
    id: `${short}-${size}-${keepAlive ? 'ka' : 'close'}-c${c}${piped ? `-p${pipeline}` : ''}`,
    title: `${tool}, ${hello ? 'JS "hello" route' : `${size.toUpperCase().replace('K', ' KiB').replace('M', ' MiB')} file`}, ${c} connections, ${keepAlive ? 'keep-alive' : 'Connection: close'}${piped ? `, ${pipeline} requests pipelined` : ''}`,
    route: hello ? 'hello' : 'static',
    path: hello ? HELLO_PATH : FILES[size].path,
    tool,
    concurrency: c,
    keepAlive,
    durationSec,
    requests: 0,
    bodyBytes: hello ? HELLO_BODY.length : FILES[size].bytes,
    ...(piped ? { pipeline } : {}),
  };
}

function ab(keepAlive: boolean, requests: number, c: number): LoadWorkload {
  return {
    id: `ab-1k-${keepAlive ? 'ka' : 'close'}-c${c}`,
    title: `ab -n ${requests} -c ${c}${keepAlive ? ' -k' : ''}, 1 KiB file`,
    route: 'static',
    path: FILES['1k'].path,
    tool: 'ab',
    concurrency: c,
    keepAlive,
    durationSec: 0,
    requests,
    bodyBytes: FILES['1k'].bytes,
    note: keepAlive ? undefined : "the kevent announcement's benchmark: ab with 8000 concurrent requests (lighttpd then)",
  };
}

function full(): LoadWorkload[] {
  const d = 5;
  return [
    ...[100, 1000, 8000].flatMap((c) => [ac('1k', c, true, d), ac('1k', c, false, d)]),
    ac('100k', 100, true, d),
    ac('10m', 10, true, d),
    ...[100, 1000, 8000].map((c) => ac('hello', c, true, d)),
    ac('hello', 1000, false, d),
    ac('1k', 1000, true, d, 'wrk'),
    ac('10m', 10, true, d, 'wrk'),
    ac('hello', 1000, true, d, 'wrk'),
    // What the hook costs once TCP's per-request cost is shared by ten requests.
    ac('hello', 100, true, d, 'wrk', 10),
    ab(false, AB_REQUESTS, AB_CONCURRENCY),
    ab(true, AB_REQUESTS, AB_CONCURRENCY),
  ];
}

function quick(): LoadWorkload[] {
  const d = 1;
  return [
    ac('1k', 20, true, d),
    ac('1k', 20, false, d),
    ac('100k', 10, true, d),
    ac('hello', 20, true, d),
    ac('1k', 20, true, d, 'wrk'),
    ac('hello', 20, true, d, 'wrk', 4),
    ab(false, 400, 50),
    ab(true, 400, 50),
  ];
}

registerWorkloads((mode: Mode) => (mode === 'full' ? full() : quick()));
