#!/usr/bin/env node
// kevent-serve [dir]: serves a directory with the native engine until SIGINT/SIGTERM.
import { openSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { destination, pino, type DestinationStream, type Logger } from 'pino';
import {
  checkConfig, errorPagesUnder, loadConfig, parseCacheControl, parseErrorPage, type ServeConfig,
} from './config.js';
import { Engine } from './engine.js';
import type { AccessLogEntry } from './options.js';

const HELP = `Usage: kevent-serve [dir] [options]

Serves the files under dir (default: the current directory) over HTTP/1.1.

Options:
  -p, --port <n>            port to listen on (default 8080; 0 picks a free one)
  -H, --host <addr>         address to bind (default 127.0.0.1)
  -t, --threads <n>         native I/O threads (default: number of CPUs)
      --reuse-port          one SO_REUSEPORT socket per thread instead of wake-one accept
      --index <names>       comma-separated index files for directories (default index.html)
      --dotfiles <p>        deny (403, default) | ignore (404) | allow
      --listing             an HTML listing for a directory without an index file
      --cache-control <r>   '<value>' for every file, or '<pattern>=<value>' (the pattern
                            has no '='), e.g. '*.css=public, max-age=86400'; repeatable,
                            the first matching rule wins
      --no-precompressed    never serve name.br / name.gz siblings
      --error-page <s>=<f>  the body for status s, e.g. 404=site/404.html (a file under
                            the root, relative to the working directory); repeatable
      --access-log [file]   log every response with pino: to stdout ('-' or no value) or
                            appended to file (a directory after it is the one to serve)
      --config <file>       options from a .json, .ts/.mts or .js/.mjs/.cjs file (its
                            default export); flags given here override its keys
      --grace <ms>          on SIGINT/SIGTERM, time for in-flight responses (default 5000)
  -h, --help                this text
`;

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string', short: 'H' },
  threads: { type: 'string', short: 't' },
  'reuse-port': { type: 'boolean' },
  index: { type: 'string' },
  dotfiles: { type: 'string' },
  listing: { type: 'boolean' },
  'cache-control': { type: 'string', multiple: true },
  'no-precompressed': { type: 'boolean' },
  'error-page': { type: 'string', multiple: true },
  'access-log': { type: 'string' },
  config: { type: 'string' },
  grace: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {
  readonly code = 'ERR_INVALID_ARG_VALUE';
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

// --access-log takes an optional value: the next argument is its file unless it looks like
// an option ('-' alone means stdout) or is a directory (the one to serve: a log file never is).
function isDirectory(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function withAccessLogValue(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return out.concat(argv.slice(i));
    if (argv[i] !== '--access-log') {
      out.push(argv[i]);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('-') && next !== '-') || isDirectory(next)) {
      out.push('--access-log=-');
    } else {
      out.push(`--access-log=${next}`);
      i++;
    }
  }
  return out;
}

// Flags as config keys; only the ones given, so they override the file key by key.
function flagsAsConfig(values: Record<string, string | boolean | string[] | undefined>): ServeConfig {
  const flags: ServeConfig = {
    port: integer('port', values.port as string | undefined),
    host: values.host as string | undefined,
    threads: integer('threads', values.threads as string | undefined),
    reusePort: values['reuse-port'] as boolean | undefined,
    index: (values.index as string | undefined)?.split(',').map((s) => s.trim()).filter(Boolean),
    dotfiles: values.dotfiles as ServeConfig['dotfiles'],
    listing: values.listing as boolean | undefined,
    precompressed: values['no-precompressed'] ? false : undefined,
    cacheRules: (values['cache-control'] as string[] | undefined)?.map(parseCacheControl),
    errorPages: (values['error-page'] as string[] | undefined)?.reduce<Record<string, string>>((pages, arg) => {
      const [status, file] = parseErrorPage(arg, process.cwd());
      pages[status] = file;
      return pages;
    }, {}),
    accessLog: values['access-log'] as string | undefined,
    grace: integer('grace', values.grace as string | undefined),
  };
  // The same checks and messages as a config file, the flags named as the source.
  return checkConfig(flags, 'command line', process.cwd());
}

// One pino destination per target: when the access log shares stdout with the main log,
// both write through the same stream so their lines never interleave.
function accessLogger(target: string, stdout: DestinationStream): { log: Logger; dest: DestinationStream } {
  const dest = target === '-' ? stdout : destination({ dest: openSync(target, 'a'), sync: false });
  // The entry carries its own `time` (when the response was queued), so pino adds none.
  return { log: pino({ name: 'kevent-access', timestamp: false, base: undefined }, dest), dest };
}

type SonicBoom = DestinationStream & { flushSync?: () => void };

async function main(): Promise<void> {
  const stdout = destination({ dest: 1, sync: false }) as SonicBoom;
  const log = pino({ name: 'kevent-serve' }, stdout);
  const flushed: SonicBoom[] = [stdout];
  const exit = (code: number): never => {
    for (const d of flushed) {
      try {
        d.flushSync?.();
      } catch {
        // A closed stdout: nothing more can be said.
      }
    }
    process.exit(code);
  };
  const fail = (err: unknown, status: number): never => {
    const e = err as Error & { code?: string };
    process.stderr.write(`kevent-serve: ${e.message}${e.code ? ` (${e.code})` : ''}\n`);
    return exit(status);
  };

  let args;
  try {
    args = parseArgs({ args: withAccessLogValue(process.argv.slice(2)), allowPositionals: true, options: OPTIONS });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`);
    return exit(2);
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(HELP);
    return exit(0);
  }
  if (positionals.length > 1) {
    process.stderr.write(`kevent-serve takes one directory, got ${positionals.length}\n\n${HELP}`);
    return exit(2);
  }

  let config: ServeConfig;
  let pagesFrom = 'command line';
  try {
    const file = values.config ? await loadConfig(values.config) : {};
    const flags = flagsAsConfig(values);
    if (!flags.errorPages && values.config) pagesFrom = path.resolve(values.config);
    config = { ...file, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
  } catch (err) {
    return fail(err, 2);
  }
  const { grace = 5000, accessLog: accessTarget, errorPages, ...options } = config;
  const root = positionals[0] !== undefined ? path.resolve(positionals[0]) : (options.root ?? path.resolve('.'));

  let access: { log: Logger; dest: DestinationStream } | undefined;
  const target = accessTarget === true ? '-' : accessTarget === false ? undefined : accessTarget;
  if (target !== undefined) {
    try {
      access = accessLogger(target, stdout);
      flushed.push(access.dest as SonicBoom);
    } catch (err) {
      log.error({ err, file: target }, 'cannot open the access log');
      return exit(1);
    }
  }

  let engine: Engine;
  try {
    engine = new Engine({
      port: 8080,
      ...options,
      root,
      errorPages: errorPages && errorPagesUnder(root, errorPages, pagesFrom),
      accessLog: access && ((entries: AccessLogEntry[]) => {
        for (const entry of entries) access.log.info(entry, 'access');
      }),
    });
  } catch (err) {
    return fail(err, 2);
  }
  try {
    await engine.start();
  } catch (err) {
    log.error({ err }, 'cannot start');
    return exit(1);
  }

  // Entries dropped because the log fell behind are said out loud, at most every 10 s.
  let dropped = 0;
  const reportDrops = () => {
    const now = engine.stats().reduce((n, t) => n + t.accessLogDropped, 0);
    if (now > dropped) log.warn({ accessLogDropped: now, since: now - dropped }, 'access log fell behind: entries dropped');
    dropped = Math.max(dropped, now);
  };
  if (access) setInterval(reportDrops, 10000).unref();

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (access) reportDrops();
    log.info({ signal, grace }, 'stopping: no new connections, finishing in-flight responses');
    engine.stop({ grace }).then(
      // The last access log batches are queued before the threads end; let them land.
      () => new Promise((resolve) => setImmediate(resolve)).then(() => {
        log.info('stopped');
        exit(0);
      }),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        exit(1);
      },
    );
  };
  // Installed before the URL is printed: whoever reads it may signal at once.
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const url = engine.url!;
  stdout.write(`kevent-serve: serving ${engine.options.root} at ${url}\n`);
  log.info({
    url, root: engine.options.root, threads: engine.options.threads, reusePort: engine.options.reusePort,
    config: values.config ? path.resolve(values.config) : undefined, accessLog: target, grace, options: engine.options,
  }, 'listening');

  // The native threads hold no libuv handle; this keeps the process up until a signal.
  setInterval(() => {}, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`kevent-serve: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
