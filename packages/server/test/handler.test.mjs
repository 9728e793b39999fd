// The JS handler: requests static files do not take, answered in order with the rest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createEngine } from '../dist/index.js';
import { makeSite, raw, parseResponses, Client, req, get } from '../testing/helpers.mjs';

let site;
before(() => {
  site = makeSite();
});
after(() => site.cleanup());

async function withEngine(options, fn) {
  const engine = createEngine({ threads: 2, ...options });
  const port = await engine.start();
  try {
    await fn(port, engine);
  } finally {
    await engine.stop({ grace: 0 });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('with a root: existing files are static, missing paths go to the handler', () =>
  withEngine({ root: site.root, handler: (r) => ({ status: 201, headers: { 'X-Path': r.url }, body: 'dynamic' }) }, async (port) => {
    assert.equal((await get(port, '/digits.txt')).text, '0123456789');
    const res = await get(port, '/api/items?x=1');
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-path'], '/api/items?x=1');
    assert.equal(res.text, 'dynamic');
    assert.equal((await get(port, '/.secret')).status, 403, 'policy answers still come from static files');
  }));

test('without a root every request goes to the handler, with method, URL, version, headers and body', () => {
  const seen = [];
  const handler = async (r) => {
    seen.push({ method: r.method, url: r.url, httpVersion: r.httpVersion, rawHeaders: r.rawHeaders, body: await r.buffer() });
    return { body: 'ok' };
  };
  return withEngine({ handler }, async (port) => {
    await raw(port, 'POST /a?b HTTP/1.1\r\nHost: t\r\nX-One: 1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    await raw(port, 'PUT /c HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', { timeout: 500 }).catch(() => {});
    await raw(port, 'PUT /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    const [a, c] = seen;
    assert.equal(a.method, 'POST');
    assert.equal(a.url, '/a?b');
    assert.equal(a.httpVersion, '1.1');
    assert.deepEqual(a.rawHeaders, ['Host', 't', 'X-One', '1', 'Content-Length', '5', 'Connection', 'close'], 'names keep their case');
    assert.equal(a.body.toString(), 'hello');
    assert.equal(c.method, 'PUT');
    assert.equal(c.body.toString(), 'abcde');
    assert.equal(seen.length, 2, 'the rejected HTTP/1.0 chunked request never reached the handler');
  });
});

test('pipelined static and async dynamic requests are answered in request order', () =>
  withEngine(
    { root: site.root, handler: async (r) => (await sleep(r.url.endsWith('slow') ? 50 : 0), { body: r.url }) },
    async (port) => {
      const targets = ['/x/slow', '/digits.txt', '/y', '/z/slow', '/style.css', '/w'];
      const c = new Client(port);
      c.send(targets.map((t) => req(t)).join(''));
      await c.until(targets.length);
      assert.deepEqual(
        c.responses().map((r) => r.text),
        ['/x/slow', '0123456789', '/y', '/z/slow', 'body { color: red }\n', '/w'],
      );
      c.close();
    },
  ));

test('pipelined requests reach the handler together; answers given in reverse still go out in order', () => {
  const held = [];
  return withEngine(
    {
      threads: 1,
      handler: (r) => new Promise((resolve) => {
        held.push(() => resolve({ body: r.url }));
        // All five are with JS at once: answer them last first.
        if (held.length === 5) for (const answer of held.reverse()) answer();
      }),
    },
    async (port) => {
      const targets = ['/a', '/b', '/c', '/d', '/e'];
      const c = new Client(port);
      c.send(targets.map((t) => req(t)).join(''));
      await c.until(targets.length);
      assert.deepEqual(c.responses().map((r) => r.text), targets);
      c.close();
    },
  );
});

test('a pipelined request with a body is read while JS still works on the one before it', () => {
  // The answer to /a waits until /b is answered: it can only come if /b was read meanwhile.
  let bAnswered;
  let gate;
  const closeGate = () => (gate = new Promise((resolve) => (bAnswered = resolve)));
  return withEngine(
    {
      threads: 1,
      handler: async (r) => {
        if (r.url === '/a') return (await gate, { body: 'a' });
        const body = await r.text();
        bAnswered();
        return { body: `b:${body}` };
      },
    },
    async (port) => {
      closeGate();
      const whole = new Client(port);
      whole.send(req('/a') + 'POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello');
      await whole.until(2);
      assert.deepEqual(whole.responses().map((r) => r.text), ['a', 'b:hello']);
      whole.close();
      // A chunked body that comes later streams to JS piece by piece.
      closeGate();
      const later = new Client(port);
      later.send(req('/a') + 'POST /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
      await sleep(20);
      later.send('2\r\nde\r\n0\r\n\r\n');
      await later.until(2);
      assert.deepEqual(later.responses().map((r) => r.text), ['a', 'b:abcde']);
      later.close();
    },
  );
});

test('past 16 pipelined requests on one connection, the rest wait until JS answers', () => {
  let inFlight = 0;
  let most = 0;
  return withEngine(
    {
      threads: 1,
      handler: (r) => {
        most = Math.max(most, ++inFlight);
        return new Promise((resolve) => setImmediate(() => (inFlight--, resolve({ body: r.url }))));
      },
    },
    async (port) => {
      const targets = Array.from({ length: 40 }, (_, i) => `/${i}`);
      const c = new Client(port);
      c.send(targets.map((t) => req(t)).join(''));
      await c.until(targets.length);
      assert.deepEqual(c.responses().map((r) => r.text), targets);
      assert.equal(most, 16, 'JS held at most 16 of them at once, and did hold 16');
      c.close();
    },
  );
});

test('a pipelined multipart range answer waits behind a JS stream, and both arrive whole', () =>
  withEngine(
    {
      root: site.root,
      threads: 1,
      handler: () => ({
        headers: { 'Content-Length': '7' },
        body: (async function* () {
          yield 'one,';
          await sleep(20);
          yield 'two';
        })(),
      }),
    },
    async (port) => {
      const c = new Client(port);
      c.send(req('/stream') + req('/digits.txt', 'Range: bytes=0-1,4-5\r\n'));
      await c.until(2);
      const [streamed, ranges] = c.responses();
      assert.equal(streamed.text, 'one,two');
      assert.equal(ranges.status, 206);
      assert.match(ranges.headers['content-type'], /^multipart\/byteranges; boundary=/);
      assert.match(ranges.text, /Content-Range: bytes 0-1\/10\r\n\r\n01\r\n/);
      assert.match(ranges.text, /Content-Range: bytes 4-5\/10\r\n\r\n45\r\n/);
      c.close();
    },
  ));

test('HEAD gets the head only; 204 and 304 carry no body or length', () =>
  withEngine({ handler: (r) => ({ status: r.url === '/none' ? 204 : 200, body: 'abc' }) }, async (port) => {
    const head = await get(port, '/x', {}, 'HEAD');
    assert.equal(head.headers['content-length'], '3');
    assert.equal(head.body.length, 0);
    const c = new Client(port);
    c.send(req('/none') + req('/after'));
    await c.until(2);
    const [none, after] = c.responses();
    assert.equal(none.status, 204);
    assert.equal(none.headers['content-length'], undefined);
    assert.equal(after.text, 'abc');
    c.close();
  }));

test('a handler that throws or rejects answers 500 and reports the error', () => {
  const errors = [];
  const handler = (r) => {
    if (r.url === '/throw') throw new Error('thrown');
    if (r.url === '/reject') return Promise.reject(new Error('rejected'));
    return { body: 'fine' };
  };
  return withEngine({ handler, onHandlerError: (e) => errors.push(e.message) }, async (port) => {
    assert.equal((await get(port, '/throw')).status, 500);
    assert.equal((await get(port, '/reject')).status, 500);
    assert.equal((await get(port, '/ok')).text, 'fine');
    assert.deepEqual(errors.sort(), ['rejected', 'thrown']);
  });
});

test('headers that would split the response answer 500; the engine owns framing headers', () =>
  withEngine(
    {
      onHandlerError: () => {},
      handler: (r) =>
        r.url === '/split'
          ? { headers: { 'X-A': 'a\r\nSet-Cookie: evil=1' }, body: 'x' }
          : { headers: [['X-A', 'a'], ['Content-Length', '999'], ['Connection', 'close'], ['X-B', 'b']], body: 'four' },
    },
    async (port) => {
      const split = await get(port, '/split');
      assert.equal(split.status, 500);
      assert.equal(split.headers['set-cookie'], undefined);
      const c = new Client(port);
      c.send(req('/owned') + req('/owned'));
      await c.until(2);
      const [first] = c.responses();
      assert.equal(first.headers['content-length'], '4');
      assert.equal(first.headers['x-a'], 'a', 'lines before a dropped one are kept');
      assert.equal(first.headers['x-b'], 'b');
      assert.equal(first.headers.connection, undefined, 'the connection stays open');
      c.close();
    },
  ));

test('keep-alive across dynamic responses; Connection: close is honoured', () =>
  withEngine({ handler: () => ({ body: 'd' }) }, async (port) => {
    const { buf, closed } = await raw(port, req('/1') + req('/2') + req('/3', 'Connection: close\r\n') + req('/4'), { keepOpen: true });
    const rs = parseResponses(buf);
    assert.deepEqual(rs.map((r) => r.text), ['d', 'd', 'd']);
    assert.equal(rs[2].headers.connection, 'close');
    assert.ok(closed);
  }));

test('many clients at once: every request answered', () =>
  withEngine({ handler: (r) => ({ body: r.url }) }, async (port) => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => get(port, `/n/${i}`)));
    results.forEach((r, i) => assert.equal(r.text, `/n/${i}`));
  }));

test('graceful stop waits for an answer JS still owes', { timeout: 20000 }, async () => {
  const engine = createEngine({ threads: 1, handler: async () => (await sleep(300), { body: 'late' }) });
  const port = await engine.start();
  const c = new Client(port);
  c.send(req('/x'));
  await sleep(50);
  await engine.stop({ grace: 10000 });
  await c.untilClosed(5000);
  assert.equal(c.responses()[0]?.text, 'late');
});

// Heads and bodies of one flush cross to the engine as one joined string: each must still
// come out as its own UTF-8, including a lone surrogate next to one that would pair with it.
test('string bodies and header values are sent as UTF-8, each on its own', () => {
  const bodies = ['plain', 'héllo wörld', '€ 100', 'smile 😀', 'cut \uD83D', '\uDE00 cut', ''];
  return withEngine(
    { threads: 1, handler: (r) => {
      const i = Number(r.url.slice(1));
      return { headers: { 'X-Name': i % 2 ? 'café' : 'cafe' }, body: bodies[i] };
    } },
    async (port) => {
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(bodies.map((_, i) => get(port, `/${i}`)));
        results.forEach((res, i) => {
          const want = Buffer.from(bodies[i]);  // lone surrogates become U+FFFD, as in Node
          assert.equal(res.status, 200);
          assert.equal(res.headers['content-length'], String(want.length));
          assert.deepEqual(res.body, want, `body ${i}`);
          assert.equal(res.headers['x-name'], Buffer.from(i % 2 ? 'café' : 'cafe').toString('latin1'));
        });
      }
    },
  );
});

test('string bodies that together pass V8\'s longest string, answered in one tick, both arrive', { timeout: 120000 }, async () => {
  // Each under the limit (2^29 - 24 characters), the two together over it.
  const big = 'x'.repeat(270_000_000);
  const waiting = [];
  const engine = createEngine({
    threads: 1,
    // Both answers are given in the same tick, so they leave JS in one flush.
    handler: () => new Promise((resolve) => {
      waiting.push(resolve);
      if (waiting.length === 2) for (const answer of waiting) answer({ body: big });
    }),
  });
  const port = await engine.start();
  const fetchCounting = () => new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(req('/', 'Connection: close\r\n')));
    let received = 0;
    let head = '';
    sock.on('data', (d) => {
      if (head.length < 100) head += d.subarray(0, 100).toString('latin1');
      received += d.length;
    });
    sock.on('close', () => resolve({ head, received }));
    sock.on('error', reject);
  });
  try {
    for (const { head, received } of await Promise.all([fetchCounting(), fetchCounting()])) {
      assert.match(head, /^HTTP\/1\.1 200/);
      assert.ok(received > big.length, `received ${received} bytes`);
    }
  } finally {
    await engine.stop({ grace: 0 });
  }
});
