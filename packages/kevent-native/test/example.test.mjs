// The README's example runs as written and echoes over a real connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

test('examples/echo-server.mjs echoes what a client sends', async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../examples/echo-server.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = await once(child.stdout, 'data');
    const port = Number(/:(\d+)/.exec(String(line))[1]);
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('kevent says hi');
    const [reply] = await once(socket, 'data');
    assert.equal(String(reply), 'kevent says hi');
    socket.end();
  } finally {
    child.kill();
  }
});
