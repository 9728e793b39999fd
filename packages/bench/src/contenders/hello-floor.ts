// hello-floor: a minimal C epoll loop answering "hello" (native/hello-floor.c), compiled with
// the system's cc at start. It does no HTTP work, so its rate is what the kernel's loopback
// TCP and the load generator allow here: the ceiling every hello contender is under.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServerProcess } from './process-server.js';
import { which } from './which.js';
import type { Contender } from './types.js';

const SOURCE = 'packages/bench/native/hello-floor.c';

export const helloFloor: Contender = {
  name: 'hello-floor',
  description: 'reference, not HTTP: a C epoll loop writing a fixed "hello" reply per request head',
  route: 'hello',
  unavailable: () => (which('cc') ? null : 'not installed (cc: apt-get install gcc)'),
  start: (o) => {
    mkdirSync(o.workDir, { recursive: true });
    const binary = path.join(o.workDir, 'hello-floor');
    execFileSync(which('cc')!, ['-O2', '-Wall', '-Wextra', '-o', binary, path.join(o.repoRoot, SOURCE)], { stdio: 'pipe' });
    return startServerProcess({ cmd: binary, args: [String(o.port), String(o.backlog), String(o.threads)] }, o);
  },
};
