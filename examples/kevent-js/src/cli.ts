#!/usr/bin/env node
// kevent-js [dir] [--port N] [--host H]: serve a folder with the JS-driven kevent server.
import { parseArgs } from 'node:util';
import { startStaticServer } from './server.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, help: { type: 'boolean' } },
});
if (values.help) {
  console.log('usage: kevent-js [dir] [--port 8080] [--host 127.0.0.1]');
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`kevent-js: --port must be 0..65535, got ${values.port}`);
  process.exit(2);
}
try {
  const server = startStaticServer({ root: positionals[0] ?? '.', host: values.host, port });
  console.log(`kevent-js serving ${positionals[0] ?? '.'} at http://${values.host}:${server.port}/`);
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  const e = error as Error & { code?: string };
  console.error(`kevent-js: ${e.message}${e.code ? ` (${e.code})` : ''}`);
  process.exit(1);
}
