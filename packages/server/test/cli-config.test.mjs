// kevent-serve's newer flags, its config file (JSON, TypeScript, JavaScript) and its access
// log, through real processes: what the flags turn into (the startup line echoes the
// engine's options), what goes on the wire, and the errors for bad configuration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeSite, get } from '../testing/helpers.mjs';
import { serve, stop, run } from '../testing/cli.mjs';

let site;
before(() => {
  site = makeSite();
  writeFileSync(path.join(site.root, '404.html'), '<h1>custom not found</h1>\n');
  writeFileSync(path.join(site.root, 'style.css.gz'), gzipSync('body { color: red }\n'));
});
after(() => site.cleanup());

const base = ['--port', '0', '--threads', '1'];

async function withServer(args, fn, options) {
  const s = await serve(args, options);
  try {
    return await fn(s);
  } finally {
    assert.equal(await stop(s), 0);
  }
}

function accessLines(text) {
  return text.split('\n').filter((l) => l.includes('"msg":"access"')).map((l) => JSON.parse(l));
}

test('--listing, --cache-control, --no-precompressed, --error-page reach the engine options', { timeout: 20000 }, async () => {
  await withServer([site.root, ...base, '--listing', '--cache-control', '*.css=public, max-age=86400',
    '--cache-control', 'public, max-age=60', '--cache-control', 'LICENSE=no-store', '--no-precompressed',
    '--error-page', `404=${path.join(site.root, '404.html')}`], async (s) => {
    const o = s.listening.options;
    assert.equal(o.listing, true);
    assert.equal(o.precompressed, false);
    assert.deepEqual(o.cacheRules, [
      { match: '*.css', cacheControl: 'public, max-age=86400' },
      { match: '*', cacheControl: 'public, max-age=60' }, // '=' after a directive: a value for every file
      { match: 'LICENSE', cacheControl: 'no-store' },
    ]);
    assert.deepEqual(o.errorPages, { 404: '404.html' });
  });
});

test('without the flags: no listing, precompressed on, no rules, no access log', { timeout: 20000 }, async () => {
  await withServer([site.root, ...base], async (s) => {
    const o = s.listening.options;
    assert.equal(o.listing, false);
    assert.equal(o.precompressed, true);
    assert.deepEqual(o.cacheRules, []);
    assert.deepEqual(o.errorPages, {});
    assert.equal(s.listening.accessLog, undefined);
    assert.equal((await get(s.port, '/digits.txt')).status, 200);
    assert.equal(accessLines(s.out()).length, 0);
  });
});

test('on the wire: --listing lists a directory without an index', { timeout: 20000 }, async () => {
  await withServer([site.root, ...base, '--listing'], async (s) => {
    const res = await get(s.port, '/noindex/');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /text\/html/);
    assert.match(res.text, /file\.txt/);
  });
  await withServer([site.root, ...base], async (s) => assert.equal((await get(s.port, '/noindex/')).status, 403));
});

test('on the wire: --cache-control sets Cache-Control (and Expires) by pattern, first match wins', { timeout: 20000 }, async () => {
  await withServer([site.root, ...base, '--cache-control', '*.css=public, max-age=86400', '--cache-control', 'no-cache'], async (s) => {
    const css = await get(s.port, '/style.css');
    assert.equal(css.headers['cache-control'], 'public, max-age=86400');
    assert.ok(css.headers.expires);
    assert.equal((await get(s.port, '/digits.txt')).headers['cache-control'], 'no-cache');
  });
});

test('on the wire: --no-precompressed stops serving the .gz sibling', { timeout: 20000 }, async () => {
  const gz = { 'Accept-Encoding': 'gzip' };
  await withServer([site.root, ...base], async (s) => {
    const res = await get(s.port, '/style.css', gz);
    assert.equal(res.headers['content-encoding'], 'gzip');
  });
  await withServer([site.root, ...base, '--no-precompressed'], async (s) => {
    const res = await get(s.port, '/style.css', gz);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.text, 'body { color: red }\n');
  });
});

test('on the wire: --error-page gives 404 its page', { timeout: 20000 }, async () => {
  await withServer([site.root, ...base, '--error-page', '404=404.html'], async (s) => {
    const res = await get(s.port, '/nope');
    assert.equal(res.status, 404);
    assert.equal(res.text, '<h1>custom not found</h1>\n');
  }, { cwd: site.root });
});

test('--error-page outside the root, or malformed: exit 2 naming it', () => {
  let r = run([site.root, ...base, '--error-page', `404=${path.join(site.base, 'outside', 'secret.txt')}`]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /errorPages\[404\].*not a file under the root.*ERR_KEVENT_CONFIG/);
  r = run([site.root, ...base, '--error-page', 'nope']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--error-page 'nope': expected <status>=<file>/);
  r = run([site.root, ...base, '--error-page', `200=${path.join(site.root, '404.html')}`]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /'200' is not a 4xx\/5xx status/);
});

test('bad flag values: exit 2 with the flag named', () => {
  for (const [args, message] of [
    [['--threads', 'two'], /--threads must be a non-negative integer/],
    [['--dotfiles', 'maybe'], /dotfiles must be 'deny', 'ignore' or 'allow'/],
    [['--cache-control', '*.css=bad\u0001value'], /cacheRules\[0\]\.cacheControl must be a header value/],
  ]) {
    const r = run([site.root, '--port', '0', ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
});

// Each config below lives in site.base, next to the served 'root' directory.
function writeConfig(name, text) {
  const file = path.join(site.base, name);
  writeFileSync(file, text);
  return file;
}

test('--config JSON: keys apply, paths resolve from the config file directory', { timeout: 20000 }, async () => {
  const file = writeConfig('kevent.json', JSON.stringify({
    root: 'root', port: 0, threads: 1, index: ['data.json'], dotfiles: 'ignore', grace: 1234,
    cacheRules: [{ match: '*.css', cacheControl: 'max-age=5' }], errorPages: { 404: 'root/404.html' },
  }));
  // Run from elsewhere: nothing depends on the working directory.
  await withServer(['--config', file], async (s) => {
    assert.equal(s.listening.root, site.root);
    assert.equal(s.listening.grace, 1234);
    assert.deepEqual(s.listening.options.errorPages, { 404: '404.html' });
    assert.deepEqual(s.listening.options.cacheRules, [{ match: '*.css', cacheControl: 'max-age=5' }]);
    assert.equal((await get(s.port, '/')).text, '{"a":1}\n');
    assert.equal((await get(s.port, '/.secret')).status, 404);
  }, { cwd: '/' });
});

test('--config TypeScript: types are stripped at load, imports of types are fine', { timeout: 30000 }, async () => {
  const file = writeConfig('kevent.config.ts', `
import type { ServeConfig } from '@kevent/server';
interface Extra { note?: string }
enum Policy { Hide = 'ignore' }
const threads: number = 1;
const config: ServeConfig & Extra = {
  root: 'root',
  port: 0,
  threads,
  dotfiles: Policy.Hide,
  index: ['digits.txt'] as string[],
};
delete (config as Extra).note;
export default config satisfies ServeConfig;
`);
  await withServer(['--config', file], async (s) => {
    assert.equal(s.listening.root, site.root);
    assert.equal((await get(s.port, '/')).text, '0123456789');
    assert.equal((await get(s.port, '/.secret')).status, 404);
  });
  // The transpiled twin written next to it for the import is gone.
  const { readdirSync } = await import('node:fs');
  assert.deepEqual(readdirSync(site.base).filter((n) => n.includes('.kevent.mjs')), []);
});

test('--config JavaScript (.mjs) with a default export', { timeout: 20000 }, async () => {
  const file = writeConfig('kevent.config.mjs', `export default { root: 'root', port: 0, threads: 1, index: ['style.css'] };\n`);
  await withServer(['--config', file], async (s) => {
    assert.equal((await get(s.port, '/')).text, 'body { color: red }\n');
  });
});

test('flags override the config file key by key; the directory argument overrides root', { timeout: 20000 }, async () => {
  const other = path.join(site.base, 'other');
  mkdirSync(other, { recursive: true });
  writeFileSync(path.join(other, 'index.html'), 'other root\n');
  const file = writeConfig('override.json', JSON.stringify({ root: 'other', port: 0, threads: 2, dotfiles: 'allow', index: ['digits.txt'] }));
  await withServer(['--config', file, '--dotfiles', 'ignore', '--threads', '1'], async (s) => {
    assert.equal(s.listening.root, other);
    assert.equal(s.listening.threads, 1);
    assert.equal(s.listening.options.dotfiles, 'ignore');
    assert.deepEqual(s.listening.options.index, ['digits.txt']); // from the file, no flag
  });
  await withServer(['--config', file, site.root], async (s) => {
    assert.equal(s.listening.root, site.root);
    assert.equal((await get(s.port, '/')).text, '0123456789');
    assert.equal((await get(s.port, '/.secret')).text, 'dot\n'); // dotfiles 'allow' from the file
  });
});

test('bad config files: exit 2, the key and the file named, with a code', () => {
  const cases = [
    ['unknown.json', JSON.stringify({ root: 'root', colour: 'blue' }), /unknown key 'colour'/],
    ['type.json', JSON.stringify({ threads: 'two' }), /'threads' must be a non-negative integer, got "two"/],
    ['nested.json', JSON.stringify({ cacheRules: [{ match: '', cacheControl: 'x' }] }), /cacheRules\[0\]\.match must be a path pattern/],
    ['array.json', '[1, 2]', /must be an object/],
    ['syntax.json', '{ "port": ', /cannot load/],
    ['syntax.ts', 'export default { port: 0 ', /'}' expected/],
    ['nodefault.mjs', 'export const port = 0;\n', /no default export/],
    ['throws.mjs', 'throw new Error("config exploded");\n', /config exploded/],
    ['config.yaml', 'port: 0\n', /must end in \.json, \.ts/],
    ['page.json', JSON.stringify({ root: 'root', errorPages: { 404: 'outside/secret.txt' } }), /errorPages\[404\].*not a file under the root/],
  ];
  for (const [name, text, message] of cases) {
    const file = writeConfig(name, text);
    const r = run(['--config', file, '--port', '0']);
    assert.equal(r.status, 2, `${name}: ${r.stderr}${r.stdout}`);
    assert.match(r.stderr, message, name);
    assert.ok(r.stderr.includes(file), `${name} names its file: ${r.stderr}`);
    assert.match(r.stderr, /\(ERR_KEVENT_CONFIG\)/, name);
  }
  const r = run(['--config', path.join(site.base, 'missing.json')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /missing\.json: cannot load: ENOENT/);
});

const ENTRY_KEYS = ['bytes', 'httpVersion', 'method', 'referer', 'remoteAddress', 'status', 'thread', 'time', 'url', 'userAgent'];

test('--access-log <file>: one pino line per response, appended, every entry field', { timeout: 20000 }, async () => {
  const logFile = path.join(site.base, 'access.log');
  writeFileSync(logFile, 'earlier line\n');
  await withServer([site.root, ...base, '--access-log', 'access.log'], async (s) => {
    assert.equal(s.listening.accessLog, logFile);
    await get(s.port, '/digits.txt', { 'User-Agent': 'cli-test', Referer: 'http://ref.test/' });
    await get(s.port, '/missing');
  }, { cwd: site.base });
  const [first, ...rest] = readFileSync(logFile, 'utf8').trim().split('\n');
  assert.equal(first, 'earlier line');
  const lines = rest.map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.url, l.status, l.bytes]), [['/digits.txt', 200, 10], ['/missing', 404, 14]]);
  for (const key of ENTRY_KEYS) assert.ok(key in lines[0], key);
  assert.equal(lines[0].userAgent, 'cli-test');
  assert.equal(lines[0].referer, 'http://ref.test/');
  assert.equal(lines[0].remoteAddress, '127.0.0.1');
  assert.equal(lines[0].msg, 'access');
});

test('--access-log with no value (or -) logs to stdout; accessLog in a config resolves from its directory', { timeout: 20000 }, async () => {
  for (const flag of [['--access-log'], ['--access-log', '-']]) {
    const s = await serve([...flag, site.root, ...base]);
    await get(s.port, '/style.css');
    assert.equal(await stop(s), 0);
    const lines = accessLines(s.out());
    assert.deepEqual(lines.map((l) => [l.url, l.status]), [['/style.css', 200]], flag.join(' '));
    for (const key of ENTRY_KEYS) assert.ok(key in lines[0], key);
  }
  const file = writeConfig('logged.json', JSON.stringify({ root: 'root', port: 0, threads: 1, accessLog: 'logs.txt' }));
  await withServer(['--config', file], async (s) => {
    await get(s.port, '/data.json');
  }, { cwd: '/' });
  const lines = readFileSync(path.join(site.base, 'logs.txt'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.url), ['/data.json']);
});

test('--access-log to a file that cannot be opened: exit 1 naming it', () => {
  const r = run([site.root, ...base, '--access-log', path.join(site.base, 'no-such-dir', 'a.log')]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /cannot open the access log/);
  assert.match(r.stdout, /ENOENT/);
});
