// kevent-serve as a user runs it: a real process, a real port, real signals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeSite, get } from '../testing/helpers.mjs';
import { serve, stop, run } from '../testing/cli.mjs';

let site;
before(() => {
  site = makeSite();
});
after(() => site.cleanup());

test('--help lists every option and exits 0', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  for (const opt of ['--port', '--host', '--threads', '--reuse-port', '--index', '--dotfiles', '--listing', '--cache-control',
    '--no-precompressed', '--error-page', '--access-log', '--config', '--grace', '--help'])
    assert.ok(r.stdout.includes(opt), opt);
});

test('a bad option exits 2 with the usage', () => {
  const r = run(['--bogus']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Usage: kevent-serve/);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`serves the directory, prints its URL, and exits 0 on ${signal}`, { timeout: 20000 }, async () => {
    const s = await serve([site.root, '--port', '0', '--threads', '1', '--index', 'index.html', '--dotfiles', 'ignore']);
    try {
      assert.equal((await get(s.port, '/')).text, '<h1>home</h1>\n');
      assert.equal((await get(s.port, '/.secret')).status, 404);
    } finally {
      assert.equal(await stop(s, signal), 0);
    }
  });
}

test('--reuse-port serves too', { timeout: 20000 }, async () => {
  const s = await serve([site.root, '--port', '0', '--threads', '2', '--reuse-port']);
  try {
    for (let i = 0; i < 10; i++) assert.equal((await get(s.port, '/digits.txt')).text, '0123456789');
  } finally {
    assert.equal(await stop(s), 0);
  }
});

test('a root that does not exist: exit 1 with the error logged', () => {
  const r = run(['/nonexistent/kevent', '--port', '0']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /ENOENT/);
});
