// Directory listings: HTML for a directory with a slash and no index file, names escaped in
// text and encoded in links, dotfiles and symlinks hidden by default, bounded in size.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { get, useSiteServer, startServer } from '../testing/helpers.mjs';

const NAMES = ['a&b.txt', '<b onmouseover=alert(1)>.html', `q"uote's.txt`, 'sp ace.txt', 'per%cent.txt', 'javascript:x.txt', 'é.txt'];
const env = useSiteServer({ listing: true, headerRules: [{ match: '/list/', headers: { 'X-Listing': '1' } }] });

before(() => {
  const list = path.join(env.site.root, 'list');
  mkdirSync(list);
  for (const name of NAMES) writeFileSync(path.join(list, name), `content of ${name}\n`);
  writeFileSync(path.join(list, 'sized.bin'), Buffer.alloc(1234));
  utimesSync(path.join(list, 'sized.bin'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  mkdirSync(path.join(list, 'sub'));
  mkdirSync(path.join(list, 'Zdir'));
  writeFileSync(path.join(list, '.hidden'), 'hidden\n');
  symlinkSync('sized.bin', path.join(list, 'link.bin'));
  const many = path.join(env.site.root, 'many');
  mkdirSync(many);
  for (let i = 0; i < 10005; i++) writeFileSync(path.join(many, `f${i}`), '');
});

const hrefs = (html) => [...html.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((m) => [m[1], m[2]]);

test('200 text/html listing with escaped names, encoded links, sorted, directories first', async () => {
  const res = await get(env.port, '/list/');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(res.headers['content-length'], String(res.body.length));
  assert.equal(res.headers['x-listing'], '1', 'header rules match the directory path');
  const html = res.body.toString('utf8');
  assert.match(html, /<title>Index of \/list\/<\/title>/);
  assert.doesNotMatch(html, /<b /);
  assert.deepEqual(hrefs(html), [
    ['../', '../'],
    ['./Zdir/', 'Zdir/'],
    ['./sub/', 'sub/'],
    ['./%3Cb%20onmouseover%3Dalert%281%29%3E.html', '&lt;b onmouseover=alert(1)&gt;.html'],
    ['./a%26b.txt', 'a&amp;b.txt'],
    ['./javascript%3Ax.txt', 'javascript:x.txt'],
    ['./per%25cent.txt', 'per%cent.txt'],
    ['./q%22uote%27s.txt', 'q&quot;uote&#39;s.txt'],
    ['./sized.bin', 'sized.bin'],
    ['./sp%20ace.txt', 'sp ace.txt'],
    ['./%C3%A9.txt', 'é.txt'],
  ]);
  assert.match(html, /sized\.bin<\/a><\/td><td>2020-01-02 03:04:05<\/td><td>1234<\/td>/);
});

test('every link of the listing fetches its file', async () => {
  const html = (await get(env.port, '/list/')).body.toString('utf8');
  for (const [href] of hrefs(html)) {
    if (href.endsWith('/')) continue;
    const res = await get(env.port, '/list/' + href.slice(2));
    assert.equal(res.status, 200, href);
    const name = decodeURIComponent(href.slice(2));
    if (name !== 'sized.bin') assert.equal(res.body.toString('utf8'), `content of ${name}\n`, href);
    assert.ok(NAMES.includes(name) || name === 'sized.bin', name);
  }
});

test('dotfiles and symlinks are not listed by default', async () => {
  const html = (await get(env.port, '/list/')).text;
  assert.doesNotMatch(html, /hidden/);
  assert.doesNotMatch(html, /link\.bin/);
});

test('the root has no parent link; a directory with an index serves the index', async () => {
  const { engine, port } = await startServer(path.join(env.site.root, 'list'), { listing: true });
  try {
    const html = (await get(port, '/')).text;
    assert.match(html, /Index of \/</);
    assert.doesNotMatch(html, /href="\.\.\/"/);
  } finally {
    await engine.stop();
  }
  assert.equal((await get(env.port, '/docs/')).text, '<h1>docs</h1>\n');
});

test('no slash: 301; HEAD: headers only; other methods: 405 with Allow', async () => {
  assert.equal((await get(env.port, '/list')).headers.location, '/list/');
  const full = await get(env.port, '/list/');
  const head = await get(env.port, '/list/', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], full.headers['content-length']);
  assert.equal(head.body.length, 0);
  const post = await get(env.port, '/list/', {}, 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
});

test('traversal through listing URLs never lists outside the root', async () => {
  assert.equal((await get(env.port, '/list/..%2f')).status, 400);
  assert.equal((await get(env.port, '/list/../../')).status, 400);
  assert.equal((await get(env.port, '/outdir/')).status, 403, 'a symlinked directory out of the root');
  assert.equal((await get(env.port, '/.git/')).status, 403, 'a dot directory');
  // '..' inside the root normalises to the root's own listing (the root has an index.html).
  assert.equal((await get(env.port, '/list/%2e%2e/')).text, '<h1>home</h1>\n');
  const res = await get(env.port, '/list/sub/');
  assert.equal(res.status, 200);
  assert.deepEqual(hrefs(res.text), [['../', '../']]);
});

test('dotfiles allow and followSymlinks show them', async () => {
  const { engine, port } = await startServer(env.site.root, { listing: true, dotfiles: 'allow', followSymlinks: true });
  try {
    const names = hrefs((await get(port, '/list/')).text).map(([, t]) => t);
    assert.ok(names.includes('.hidden'));
    assert.ok(names.includes('link.bin'));
  } finally {
    await engine.stop();
  }
});

test('past 10000 entries the listing is cut and says so', async () => {
  const res = await get(env.port, '/many/');
  assert.equal(res.status, 200);
  assert.equal(hrefs(res.text).length, 10000 + 1);
  assert.match(res.text, /Only the first 10000 entries are listed/);
});

test('listing off (default): 403 for the same directory', async () => {
  const { engine, port } = await startServer(env.site.root);
  try {
    assert.equal((await get(port, '/list/')).status, 403);
  } finally {
    await engine.stop();
  }
});
