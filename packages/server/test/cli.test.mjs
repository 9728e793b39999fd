// kevent-serve as a user runs it: a real process, a real port, real signals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { makeSite, get } from '../testing/helpers.mjs';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
let site;
before(() => {
  site = makeSite();
});
after(() => site.cleanup());

function serve(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const url = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      // Ready once both the URL line and pino's startup line are out.
      const m = /serving .* at (http:\/\/\S+)/.exec(out);
      if (m && out.includes('"msg":"listening"')) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
  return { child, url };
}

test('--help lists every option and exits 0', () => {
  const r = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const opt of ['--port', '--host', '--threads', '--reuse-port', '--index', '--dotfiles', '--grace', '--help'])
    assert.ok(r.stdout.includes(opt), opt);
});

test('a bad option exits 2 with the usage', () => {
  const r = spawnSync(process.execPath, [CLI, '--bogus'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Usage: kevent-serve/);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`serves the directory, prints its URL, and exits 0 on ${signal}`, { timeout: 20000 }, async () => {
    const s = serve([site.root, '--port', '0', '--threads', '1', '--index', 'index.html', '--dotfiles', 'ignore']);
    try {
      const port = Number(new URL(await s.url).port);
      assert.equal((await get(port, '/')).text, '<h1>home</h1>\n');
      assert.equal((await get(port, '/.secret')).status, 404);
    } finally {
      s.child.kill(signal);
    }
    const [code, killedBy] = await once(s.child, 'exit');
    assert.equal(code, 0, `killed by ${killedBy}`);
  });
}

test('--reuse-port serves too', { timeout: 20000 }, async () => {
  const s = serve([site.root, '--port', '0', '--threads', '2', '--reuse-port']);
  try {
    const port = Number(new URL(await s.url).port);
    for (let i = 0; i < 10; i++) assert.equal((await get(port, '/digits.txt')).text, '0123456789');
  } finally {
    s.child.kill('SIGTERM');
  }
  assert.equal((await once(s.child, 'exit'))[0], 0);
});

test('a root that does not exist: exit 1 with the error logged', () => {
  const r = spawnSync(process.execPath, [CLI, '/nonexistent/kevent', '--port', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /ENOENT/);
});
