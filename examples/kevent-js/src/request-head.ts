// A deliberately simple HTTP/1.x request-head parser: enough for GET/HEAD of static files,
// strict about what it accepts. (The production engine in packages/server uses llhttp.)

export interface RequestHead {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  headers: Map<string, string>;
  /** Bytes of the head including the blank line. */
  length: number;
}

export class BadRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export const MAX_HEAD_BYTES = 16 * 1024;
const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Parses one request head from the start of `data`; null when it is not complete yet. */
export function parseRequestHead(data: Buffer): RequestHead | null {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) {
    if (data.length > MAX_HEAD_BYTES) throw new BadRequest(431, 'request head too large');
    return null;
  }
  if (end > MAX_HEAD_BYTES) throw new BadRequest(431, 'request head too large');
  const lines = data.toString('latin1', 0, end).split('\r\n');
  const match = REQUEST_LINE.exec(lines[0]!);
  if (!match) throw new BadRequest(400, 'malformed request line');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const h = HEADER_LINE.exec(line);
    // Bare CR/LF, obs-fold, space before the colon and control characters are all refused.
    if (!h || CONTROL.test(line)) throw new BadRequest(400, 'malformed header');
    const name = h[1]!.toLowerCase();
    if (headers.has(name) && (name === 'content-length' || name === 'host')) throw new BadRequest(400, `duplicate ${name}`);
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${h[2]}` : h[2]!);
  }
  return { method: match[1]!, target: match[2]!, version: match[3] === '1' ? '1.1' : '1.0', headers, length: end + 4 };
}

export function wantsKeepAlive(head: RequestHead): boolean {
  const connection = (head.headers.get('connection') ?? '').toLowerCase();
  if (head.version === '1.0') return connection.includes('keep-alive');
  return !connection.includes('close');
}
