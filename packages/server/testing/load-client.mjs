// Opens argv[3] connections to 127.0.0.1:argv[2] at once, sends one keep-alive GET of
// argv[4] on each, and holds every connection open until all have their response, so the
// server holds them all at the same time. Prints {"ok","failed","errors"}.
import net from 'node:net';

const [port, count, target] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
let ok = 0;
let failed = 0;
const errors = {};
const sockets = [];
let settled = 0;

function finish() {
  if (++settled < count) return;
  for (const s of sockets) s.destroy();
  process.stdout.write(JSON.stringify({ ok, failed, errors }) + '\n');
  process.exit(0);
}

for (let i = 0; i < count; i++) {
  const sock = net.connect(port, '127.0.0.1');
  sockets.push(sock);
  let buf = '';
  let done = false;
  const settle = (good, why) => {
    if (done) return;
    done = true;
    if (good) ok++;
    else {
      failed++;
      errors[why] = (errors[why] ?? 0) + 1;
    }
    finish();
  };
  sock.setEncoding('latin1');
  sock.on('connect', () => sock.write(`GET ${target} HTTP/1.1\r\nHost: load\r\n\r\n`));
  sock.on('data', (d) => {
    buf += d;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? -1);
    if (buf.length - end - 4 < length) return;
    settle(buf.startsWith('HTTP/1.1 200 '), buf.slice(0, 12));
  });
  sock.on('error', (err) => settle(false, err.code ?? String(err)));
  sock.on('close', () => settle(false, 'closed before the response'));
}
