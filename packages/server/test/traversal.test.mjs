// Every way of naming something outside the root must fail, and nothing outside may leak.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raw, useSiteServer } from '../testing/helpers.mjs';

const env = useSiteServer();

// The request line is sent as-is (no client-side normalisation).
async function fetchRaw(target) {
  const { text } = await raw(env.port, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  return { status: Number(text.split(' ')[1]), text };
}

async function refused(target, expected) {
  const res = await fetchRaw(target);
  assert.ok(!res.text.includes('TOP SECRET'), `${target} leaked the file outside the root`);
  assert.ok(!res.text.includes('root:'), `${target} leaked /etc/passwd`);
  if (expected) assert.equal(res.status, expected, target);
  else assert.ok(res.status >= 400, `${target} answered ${res.status}`);
}

test('".." above the root: 400', async () => {
  await refused('/../outside/secret.txt', 400);
  await refused('/docs/../../outside/secret.txt', 400);
  await refused('/../../../../etc/passwd', 400);
});

test('".." that stays inside the root is normalised and served', async () => {
  const res = await fetchRaw('/docs/../digits.txt');
  assert.equal(res.status, 200);
  assert.ok(res.text.endsWith('0123456789'));
});

test('%2e%2e (encoded dots) is the same ".." and is refused', async () => {
  await refused('/%2e%2e/outside/secret.txt', 400);
  await refused('/%2E%2E/%2e%2e/etc/passwd', 400);
  await refused('/docs/%2e%2e/%2e%2e/outside/secret.txt', 400);
});

test('%2f (encoded slash) is refused', async () => {
  await refused('/..%2foutside%2fsecret.txt', 400);
  await refused('/docs%2Findex.html', 400);
});

test('backslash, raw or encoded, is refused', async () => {
  await refused('/..\\outside\\secret.txt', 400);
  await refused('/%5c..%5coutside%5csecret.txt', 400);
});

test('double encoding is decoded once: %252e%252e is a literal name, not ".."', async () => {
  await refused('/%252e%252e/outside/secret.txt', 404);
  await refused('/%252e%252e%252foutside%252fsecret.txt', 404);
});

test('overlong UTF-8 for "." and "/" is refused', async () => {
  await refused('/%c0%ae%c0%ae/outside/secret.txt', 400);
  await refused('/..%c0%afoutside%c0%afsecret.txt', 400);
  await refused('/%e0%80%ae%e0%80%ae/outside/secret.txt', 400);
});

test('NUL, encoded or raw, is refused', async () => {
  await refused('/index.html%00.txt', 400);
  const { text } = await raw(env.port, 'GET /index.html\0.txt HTTP/1.1\r\nHost: t\r\n\r\n');
  assert.equal(Number(text.split(' ')[1]), 400);
});

test('a symlink out of the root (file or directory) is refused', async () => {
  await refused('/escape.txt', 403);
  await refused('/outdir/secret.txt', 403);
});

test('absolute-form targets cannot escape either', async () => {
  await refused('http://evil/../outside/secret.txt', 400);
});
