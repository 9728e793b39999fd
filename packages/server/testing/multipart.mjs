// Not a test file. Splits a multipart/byteranges body back into its parts, strictly: the
// framing must be exactly what RFC 9110 14.6 / RFC 2046 describe, or this throws.
export function boundaryOf(contentType) {
  const m = /^multipart\/byteranges; boundary=([A-Za-z0-9'()+_,.\/:=?-]{1,70})$/.exec(contentType ?? '');
  if (!m) throw new Error(`not multipart/byteranges: ${contentType}`);
  return m[1];
}

export function parseByteranges(body, boundary) {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const parts = [];
  let pos = 0;
  for (;;) {
    if (!body.subarray(pos, pos + delimiter.length).equals(delimiter)) throw new Error(`no delimiter at ${pos}`);
    pos += delimiter.length;
    if (body.subarray(pos, pos + 4).toString('latin1') === '--\r\n') {
      if (pos + 4 !== body.length) throw new Error('bytes after the closing delimiter');
      return parts;
    }
    const end = body.indexOf('\r\n\r\n', pos, 'latin1');
    const lines = body.subarray(pos + 2, end).toString('latin1').split('\r\n');
    const headers = {};
    for (const line of lines) {
      const c = line.indexOf(':');
      headers[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
    }
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers['content-range'] ?? '');
    if (!m) throw new Error(`bad part Content-Range: ${headers['content-range']}`);
    const first = Number(m[1]);
    const last = Number(m[2]);
    const start = end + 4;
    parts.push({ headers, first, last, size: Number(m[3]), body: body.subarray(start, start + last - first + 1) });
    pos = start + last - first + 1;
  }
}
