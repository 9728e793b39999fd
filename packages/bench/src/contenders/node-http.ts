// node:http contenders: the same Node binary that runs the harness, one process per thread.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from './process-server.js';
import type { Contender, StartOptions } from './types.js';

const serversDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'servers');

function nodeServer(script: string, o: StartOptions) {
  return startServerProcess(
    {
      cmd: process.execPath,
      args: [path.join(serversDir, script), '--port', String(o.port), '--threads', String(o.threads),
        '--backlog', String(o.backlog), '--root', o.root],
    },
    o,
  );
}

export const nodeHttpHello: Contender = {
  name: 'node-http-hello',
  description: 'node:http, a plain handler answering "hello"',
  route: 'hello',
  unavailable: () => null,
  start: (o) => nodeServer('node-hello.js', o),
};

export const nodeHttpStatic: Contender = {
  name: 'node-http-static',
  description: 'node:http serving files with fs.stat + stream.pipeline(fs.createReadStream(), res)',
  route: 'static',
  unavailable: () => null,
  start: (o) => nodeServer('node-static.js', o),
};
