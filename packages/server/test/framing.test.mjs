// Ambiguous framing is answered 400 and the connection closed, so a request smuggled behind
// it is never processed. One test per smuggling CVE class that the llhttp we build on
// (Debian's 8.1) or older llhttp releases let through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raw, parseResponses, useSiteServer } from '../testing/helpers.mjs';

const env = useSiteServer({ maxChunkExtension: 64 });

// A second, complete request that must never be answered.
const SMUGGLED = 'GET /digits.txt HTTP/1.1\r\nHost: t\r\n\r\n';

async function rejected(request, status = 400) {
  const { buf, closed } = await raw(env.port, request + SMUGGLED, { keepOpen: true });
  const responses = parseResponses(buf);
  assert.equal(responses.length, 1, `expected one response, got:\n${buf.toString('latin1')}`);
  assert.equal(responses[0].status, status);
  assert.equal(responses[0].headers.connection, 'close');
  assert.ok(closed, 'the server closed the connection');
  assert.ok(!buf.includes('0123456789'), 'the smuggled request was answered');
}

const POST = 'POST /index.html HTTP/1.1\r\nHost: t\r\n';

test('control: a well-framed body and the request after it are both answered', async () => {
  const { buf } = await raw(env.port, `${POST}Content-Length: 5\r\n\r\nhello${SMUGGLED}`, { keepOpen: true, timeout: 1000 });
  assert.deepEqual(parseResponses(buf).map((r) => r.status), [405, 200]);
});

test('control: a chunked body and the request after it are both answered', async () => {
  const body = '5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n';
  const { buf } = await raw(env.port, `${POST}Transfer-Encoding: chunked\r\n\r\n${body}${SMUGGLED}`, { keepOpen: true, timeout: 1000 });
  assert.deepEqual(parseResponses(buf).map((r) => r.status), [405, 200]);
});

test('Content-Length with Transfer-Encoding (CL.TE / TE.CL)', async () => {
  await rejected(`${POST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
  await rejected(`${POST}Transfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\n`);
});

test('duplicate Content-Length, even with equal values', async () => {
  await rejected(`${POST}Content-Length: 0\r\nContent-Length: 0\r\n\r\n`);
  await rejected(`${POST}Content-Length: 5\r\nContent-Length: 40\r\n\r\nhello`);
});

test('invalid Content-Length values', async () => {
  for (const v of ['+5', '-1', '5,5', '0x5', '5 5', '99999999999999999999', '']) {
    await rejected(`${POST}Content-Length: ${v}\r\n\r\n`);
  }
});

test('CVE-2019-15605: Transfer-Encoding not ending in chunked', async () => {
  await rejected(`${POST}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`);
  await rejected(`${POST}Transfer-Encoding: gzip\r\n\r\n`);
});

test('CVE-2020-8287: a second Transfer-Encoding header', async () => {
  await rejected(`${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: eee\r\n\r\n0\r\n\r\n`);
});

test('CVE-2022-32213: Transfer-Encoding values that only look like chunked', async () => {
  await rejected(`${POST}Transfer-Encoding: chunkedchunked\r\n\r\n0\r\n\r\n`);
  await rejected(`${POST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`);
});

test('CVE-2022-32214: bare LF as a line ending', async () => {
  await rejected('GET / HTTP/1.1\nHost: t\n\n');
  await rejected(`GET / HTTP/1.1\r\nHost: t\nX: y\r\n\r\n`);
});

test('CVE-2022-32215 / CVE-2024-27982: obs-fold (a header continued on the next line)', async () => {
  await rejected(`${POST}Transfer-Encoding: identity\r\n chunked\r\n\r\n0\r\n\r\n`);
  await rejected(`GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n\tb\r\n\r\n`);
});

test('CVE-2024-27982: whitespace before the colon', async () => {
  await rejected(`${POST}Content-Length : 5\r\n\r\nhello`);
  await rejected(`${POST}Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n`);
});

test('CVE-2022-35256 / CVE-2023-30589: bare CR inside the head', async () => {
  await rejected('GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n');
  await rejected(`${POST}Content-Length: 5\r\rX: 1\r\n\r\nhello`);
});

test('CVE-2025-23167: a head ended by "\\r\\n\\rX" instead of a blank line', async () => {
  await rejected('GET / HTTP/1.1\r\nHost: t\r\n\rX');
});

test('NUL and control characters in the request line or a header name', async () => {
  await rejected('GET /\0 HTTP/1.1\r\nHost: t\r\n\r\n');
  await rejected('GET /\x01 HTTP/1.1\r\nHost: t\r\n\r\n');
  await rejected('GET\t/ HTTP/1.1\r\nHost: t\r\n\r\n');
  await rejected('GET / HTTP/1.1\r\nHo\0st: t\r\n\r\n');
  await rejected('GET / HTTP/1.1\r\nHost: t\r\nX\x7fY: 1\r\n\r\n');
});

test('a NUL in a header value', async () => {
  await rejected('GET / HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n');
});

// The strict pass reads long lines eight bytes at a time: a control character is refused at
// any offset of the request line or a value (llhttp refuses these too: both layers must
// hold), and a tab in a value, which only the strict pass could wrongly refuse, is allowed.
test('control characters at any offset of a long request line or header value; a tab in a value is fine', async () => {
  const value = 'abcdefghijklmnopqrstu';
  for (const at of [0, 7, 8, 15, 16, 20]) {
    for (const ctl of ['\0', '\x01', '\x1f', '\x7f', '\r']) {
      await rejected(`GET / HTTP/1.1\r\nHost: t\r\nX-Long: ${value.slice(0, at)}${ctl}${value.slice(at)}\r\n\r\n`);
    }
  }
  for (const at of [1, 8, 17]) await rejected(`GET /digits.txt?${'q'.repeat(at)}\x7f HTTP/1.1\r\nHost: t\r\n\r\n`);
  const { buf } = await raw(env.port, `GET /digits.txt HTTP/1.1\r\nHost: t\r\nX-Long: abcdefghi\tjklmnopq\t\r\nConnection: close\r\n\r\n`, { timeout: 1000 });
  assert.deepEqual(parseResponses(buf).map((r) => r.status), [200]);
});

test('chunk-size overflow', async () => {
  await rejected(`${POST}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nx\r\n0\r\n\r\n`);
});

test('oversized chunk extension', async () => {
  await rejected(`${POST}Transfer-Encoding: chunked\r\n\r\n1;${'a'.repeat(200)}\r\nx\r\n0\r\n\r\n`);
});

test('malformed chunks: missing CRLF after data, bare LF in a size line, no hex digits', async () => {
  await rejected(`${POST}Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n`);
  await rejected(`${POST}Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n`);
  await rejected(`${POST}Transfer-Encoding: chunked\r\n\r\n;x\r\n\r\n`);
});

test('Transfer-Encoding in HTTP/1.0, and a missing or doubled Host in HTTP/1.1', async () => {
  await rejected('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  await rejected('GET / HTTP/1.1\r\n\r\n');
  await rejected('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
});

test('other transfer codings before chunked: 501', async () => {
  await rejected(`${POST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501);
});

test('an HTTP version other than 1.x: 505', async () => {
  await rejected('GET / HTTP/2.0\r\nHost: t\r\n\r\n', 505);
});
