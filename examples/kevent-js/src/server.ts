// kevent-js: an HTTP/1.1 static file server driven entirely through the kevent API from JS.
// Accept, recv and send readiness come from one Queue watched on Node's event loop; file
// bodies go out with aioSendfilePath (header + file in one job, sendfile on the native pool),
// whose completion comes back through the same queue as a KEVENT_AIO event.
import { realpathSync } from 'node:fs';
import {
  Queue, aioSendfilePath, listen, localAddress, accept, recv, writev, close, shutdown,
  KEVENT_CTL_ADD, KEVENT_CTL_REMOVE, KEVENT_SOCKET, KEVENT_AIO, KEVENT_TIMER, KEVENT_TIMER_FIRED,
  KEVENT_SOCKET_ACCEPT, KEVENT_SOCKET_RECV,
  KEVENT_SOCKET_SEND, KEVENT_REQ_ALWAYS_QUEUE, KEVENT_REQ_ONESHOT, KEVENT_RET_BROKEN, type Ukevent,
} from '@kevent/native';
import { Connection } from './connection.js';
import { BadRequest, parseRequestHead, wantsKeepAlive, type RequestHead } from './request-head.js';
import { contentType, resolveTarget } from './static-file.js';

export interface StaticServerOptions {
  root: string;
  host?: string;
  port?: number;
}

export interface StaticServerStats {
  connections: number;
  /** Responses that found the socket full and waited for a KEVENT_SOCKET_SEND event. */
  sendWaits: number;
  /** Files sent through aioSendfilePath. */
  aioJobs: number;
}

export interface StaticServer {
  readonly port: number;
  stats(): StaticServerStats;
  close(): void;
}

const REASONS: Record<number, string> = {
  200: 'OK', 301: 'Moved Permanently', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large', 501: 'Not Implemented',
};
const RECV_BUFFER = Buffer.alloc(64 * 1024);
/** How long a closing connection keeps reading what the client still sends. */
const LINGER_MS = 2000;

export function startStaticServer(options: StaticServerOptions): StaticServer {
  const root = realpathSync(options.root);
  const queue = new Queue();
  const listener = listen(options.host ?? '127.0.0.1', options.port ?? 0);
  const connections = new Map<number, Connection>();
  const jobs = new Map<number, Connection>(); // aio cookie -> connection
  let sendWaits = 0;
  let aioJobs = 0;
  queue.ctl(KEVENT_CTL_ADD, [{ id: listener, type: KEVENT_SOCKET, event: KEVENT_SOCKET_ACCEPT, reqFlags: KEVENT_REQ_ALWAYS_QUEUE }]);

  function head(status: number, fields: Record<string, string | number>, keepAlive: boolean): Buffer {
    let text = `HTTP/1.1 ${status} ${REASONS[status] ?? ''}\r\n`;
    for (const [name, value] of Object.entries(fields)) text += `${name}: ${value}\r\n`;
    text += `Date: ${new Date().toUTCString()}\r\nServer: kevent-js\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
    return Buffer.from(text, 'latin1');
  }

  function drop(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    connections.delete(conn.fd);
    // REMOVE before close, so the fd number can be reused by the next accept.
    queue.ctl(KEVENT_CTL_REMOVE, [{ id: conn.fd, type: KEVENT_SOCKET, user: conn.fd }]);
    if (conn.waitingForSend) queue.ctl(KEVENT_CTL_REMOVE, [{ id: conn.fd, type: KEVENT_SOCKET, user: -conn.fd }]);
    if (conn.lingering) queue.ctl(KEVENT_CTL_REMOVE, [{ id: LINGER_MS, type: KEVENT_TIMER, user: conn.fd }]);
    // An aio job in flight holds its own copy of the socket; it ends with a BROKEN event.
    close(conn.fd);
  }

  /** Writes what the socket takes; the rest waits for a one-shot SEND event. */
  function flush(conn: Connection): void {
    while (conn.output.length) {
      let sent: number | null;
      try {
        sent = writev(conn.fd, conn.output);
      } catch {
        return drop(conn);
      }
      if (sent === null) {
        if (!conn.waitingForSend) {
          conn.waitingForSend = true;
          sendWaits++;
          queue.ctl(KEVENT_CTL_ADD, [{ id: conn.fd, type: KEVENT_SOCKET, event: KEVENT_SOCKET_SEND,
            reqFlags: KEVENT_REQ_ONESHOT | KEVENT_REQ_ALWAYS_QUEUE, user: -conn.fd }]);
        }
        return;
      }
      while (sent > 0) {
        const first = conn.output[0]!;
        if (first.length <= sent) {
          sent -= first.length;
          conn.output.shift();
        } else {
          conn.output[0] = first.subarray(sent);
          sent = 0;
        }
      }
    }
  }

  function respond(conn: Connection, bytes: Buffer, keepAlive: boolean): void {
    conn.closeWhenDone ||= !keepAlive;
    conn.output.push(bytes);
    flush(conn);
  }

  function serve(conn: Connection, req: RequestHead): void {
    const keepAlive = wantsKeepAlive(req);
    if (req.headers.has('transfer-encoding')) return respond(conn, head(501, { 'Content-Length': 0 }, false), false);
    if (Number(req.headers.get('content-length') ?? 0) !== 0) return respond(conn, head(413, { 'Content-Length': 0 }, false), false);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return respond(conn, head(405, { Allow: 'GET, HEAD', 'Content-Length': 0 }, keepAlive), keepAlive);
    }
    const found = resolveTarget(root, req.target);
    if (found.kind === 'redirect') return respond(conn, head(301, { Location: found.location, 'Content-Length': 0 }, keepAlive), keepAlive);
    if (found.kind === 'error') {
      const body = Buffer.from(`${found.status} ${REASONS[found.status]}\n`);
      const bytes = head(found.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length }, keepAlive);
      return respond(conn, req.method === 'HEAD' ? bytes : Buffer.concat([bytes, body]), keepAlive);
    }
    const size = found.stats.size;
    const fields = { 'Content-Type': contentType(found.file), 'Content-Length': size, 'Last-Modified': found.stats.mtime.toUTCString() };
    const header = head(200, fields, keepAlive);
    if (req.method === 'HEAD' || size === 0) return respond(conn, header, keepAlive);
    conn.closeWhenDone ||= !keepAlive;
    const cookie = aioSendfilePath(queue, conn.fd, header, found.file, 0, size);
    conn.sending = cookie;
    aioJobs++;
    jobs.set(cookie, conn);
  }

  /**
   * Serves complete requests in order while no response is in flight; called only from the
   * event handlers, so a long pipeline is a loop, never a recursion.
   */
  function serveNext(conn: Connection): void {
    while (!conn.busy && !conn.closed && !conn.closeWhenDone && conn.input.length) {
      let req: RequestHead | null;
      try {
        req = parseRequestHead(conn.input);
      } catch (error) {
        const status = error instanceof BadRequest ? error.status : 400;
        conn.input = Buffer.alloc(0);
        respond(conn, head(status, { 'Content-Length': 0 }, false), false);
        break;
      }
      if (!req) break;
      conn.input = conn.input.subarray(req.length);
      serve(conn, req);
    }
    if (conn.busy) return;
    if (conn.peerDone) drop(conn);
    else if (conn.closeWhenDone) linger(conn);
  }

  /**
   * Closing with unread request bytes in the socket makes the kernel send a reset, which can
   * destroy the response the client has not read yet (a client that already sent its next
   * request does that). So, like nginx and lighttpd: shut the write side, read and discard
   * until the client closes, and give up after LINGER_MS (a one-shot kevent timer).
   */
  function linger(conn: Connection): void {
    if (conn.lingering || conn.closed) return;
    conn.lingering = true;
    conn.input = Buffer.alloc(0);
    try {
      shutdown(conn.fd, 'write');
    } catch {
      return drop(conn);
    }
    queue.ctl(KEVENT_CTL_ADD, [{ id: LINGER_MS, type: KEVENT_TIMER, event: KEVENT_TIMER_FIRED, reqFlags: KEVENT_REQ_ONESHOT, user: conn.fd }]);
  }

  function onReadable(conn: Connection): void {
    for (;;) {
      let n: number | null;
      try {
        n = recv(conn.fd, RECV_BUFFER);
      } catch {
        return drop(conn);
      }
      if (n === null) break;
      if (conn.lingering) {
        if (n === 0) return drop(conn);
        continue;  // discard
      }
      if (n === 0) {
        // The client is done sending; finish what it asked for, then close.
        conn.peerDone = true;
        queue.ctl(KEVENT_CTL_REMOVE, [{ id: conn.fd, type: KEVENT_SOCKET, user: conn.fd }]);
        break;
      }
      conn.append(RECV_BUFFER.subarray(0, n));
    }
    serveNext(conn);
  }

  function onEvent(ev: Ukevent): void {
    if (ev.type === KEVENT_AIO) {
      const conn = jobs.get(ev.user as number);
      if (!conn) return;
      jobs.delete(ev.user as number);
      conn.sending = null;
      if (ev.retFlags! & KEVENT_RET_BROKEN) return drop(conn);
      return serveNext(conn);
    }
    if (ev.type === KEVENT_TIMER) {
      const conn = connections.get(ev.user as number);
      if (conn?.lingering) {
        conn.lingering = false;  // the one-shot timer is gone already
        drop(conn);
      }
      return;
    }
    if (ev.id === listener) {
      for (let client; (client = accept(listener)) !== null;) {
        const conn = new Connection(client.fd);
        connections.set(client.fd, conn);
        queue.ctl(KEVENT_CTL_ADD, [{ id: client.fd, type: KEVENT_SOCKET, event: KEVENT_SOCKET_RECV,
          reqFlags: KEVENT_REQ_ALWAYS_QUEUE, user: client.fd }]);
      }
      return;
    }
    const conn = connections.get(ev.id as number);
    if (!conn) return;
    if ((ev.event ?? 0) & KEVENT_SOCKET_SEND) {
      conn.waitingForSend = false;
      flush(conn);
      serveNext(conn);
    } else {
      onReadable(conn);
    }
  }

  queue.onReady((events) => {
    for (const ev of events) onEvent(ev);
  });

  return {
    port: localAddress(listener).port,
    stats: () => ({ connections: connections.size, sendWaits, aioJobs }),
    close() {
      for (const conn of [...connections.values()]) drop(conn);
      queue.ctl(KEVENT_CTL_REMOVE, [{ id: listener, type: KEVENT_SOCKET }]);
      close(listener);
      queue.close();
    },
  };
}
