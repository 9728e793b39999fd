// node:http serving files with fs streams: what a Node user writes without a framework.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { serve, serveArgs } from './serve-args.js';

const args = serveArgs();
const root = path.resolve(args.root);

function resolveInRoot(url: string): string | null {
  const pathname = decodeURIComponent(url.split('?')[0] ?? '/');
  const file = path.join(root, path.normalize(pathname));
  return file.startsWith(root + path.sep) ? file : null;
}

serve(args, () =>
  http.createServer((req, res) => {
    let file: string | null;
    try {
      file = resolveInRoot(req.url ?? '/');
    } catch {
      file = null;
    }
    if (!file) {
      res.writeHead(400).end();
      return;
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      // pipeline, not pipe: when a client goes away mid-file, pipe() leaves the file open,
      // and after the 8000-connection runs the server was out of fds and sent empty replies.
      pipeline(fs.createReadStream(file!), res, () => {});
    });
  }),
);
