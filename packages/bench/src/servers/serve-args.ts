// The node:http contenders' shared command line and worker model: one process per thread,
// through node:cluster when more than one (node:http itself runs on one thread).
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { KEEPALIVE_IDLE_SEC } from '../contenders/fair.js';

export interface ServeArgs {
  port: number;
  threads: number;
  backlog: number;
  root: string;
}

export function serveArgs(): ServeArgs {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      threads: { type: 'string', default: '1' },
      backlog: { type: 'string', default: '511' },
      root: { type: 'string', default: '.' },
    },
  });
  return {
    port: Number(values.port),
    threads: Math.max(1, Number(values.threads)),
    backlog: Number(values.backlog),
    root: values.root!,
  };
}

/** Runs `make()` in this process, or in `threads` cluster workers sharing the port. */
export function serve(args: ServeArgs, make: () => Server): void {
  if (args.threads > 1 && cluster.isPrimary) {
    for (let i = 0; i < args.threads; i++) cluster.fork();
    process.on('SIGTERM', () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
      process.exit(0);
    });
    return;
  }
  const server = make();
  // The peers keep idle keep-alive connections 65 s (fair.ts); Node's default is 5 s, which
  // made ab -k at 8000 connections fail on connections Node had already closed.
  server.keepAliveTimeout = KEEPALIVE_IDLE_SEC * 1000;
  server.headersTimeout = (KEEPALIVE_IDLE_SEC + 1) * 1000;
  server.listen({ port: args.port, host: '127.0.0.1', backlog: args.backlog });
  process.on('SIGTERM', () => process.exit(0));
}
