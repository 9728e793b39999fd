#!/usr/bin/env node
// kevent-serve [dir]: serves a directory with the native engine until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { serveStatic } from './engine.js';
import type { DotfilesPolicy } from './options.js';

const HELP = `Usage: kevent-serve [dir] [options]

Serves the files under dir (default: the current directory) over HTTP/1.1.

Options:
  -p, --port <n>        port to listen on (default 8080; 0 picks a free one)
  -H, --host <addr>     address to bind (default 127.0.0.1)
  -t, --threads <n>     native I/O threads (default: number of CPUs)
      --reuse-port      one SO_REUSEPORT socket per thread instead of wake-one accept
      --index <names>   comma-separated index files for directories (default index.html)
      --dotfiles <p>    deny (403, default) | ignore (404) | allow
      --grace <ms>      on SIGINT/SIGTERM, time for in-flight responses (default 5000)
  -h, --help            this text
`;

function integer(name: string, value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

async function main(): Promise<void> {
  const log = pino({ name: 'kevent-serve' });
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string', short: 'H' },
        threads: { type: 'string', short: 't' },
        'reuse-port': { type: 'boolean' },
        index: { type: 'string' },
        dotfiles: { type: 'string' },
        grace: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length > 1) {
    process.stderr.write(`kevent-serve takes one directory, got ${positionals.length}\n\n${HELP}`);
    process.exit(2);
  }
  const root = positionals[0] ?? '.';
  let engine;
  let grace: number;
  try {
    grace = integer('grace', values.grace, 5000)!;
    engine = serveStatic(root, {
      port: integer('port', values.port, 8080),
      host: values.host,
      threads: integer('threads', values.threads),
      reusePort: values['reuse-port'],
      index: values.index?.split(',').map((s) => s.trim()).filter(Boolean),
      dotfiles: values.dotfiles as DotfilesPolicy | undefined,
    });
    await engine.start();
  } catch (err) {
    log.error({ err }, 'cannot start');
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, grace }, 'stopping: no new connections, finishing in-flight responses');
    engine.stop({ grace }).then(
      () => {
        log.info('stopped');
        log.flush();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  // Installed before the URL is printed: whoever reads it may signal at once.
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const url = engine.url!;
  process.stdout.write(`kevent-serve: serving ${engine.options.root} at ${url}\n`);
  log.info({ url, root: engine.options.root, threads: engine.options.threads, reusePort: engine.options.reusePort }, 'listening');

  // The native threads hold no libuv handle; this keeps the process up until a signal.
  setInterval(() => {}, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`kevent-serve: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
