// node:http answering "hello" from JS: the baseline for the JS hook.
import http from 'node:http';
import { serve, serveArgs } from './serve-args.js';
import { HELLO_BODY } from '../docroot.js';

const body = Buffer.from(HELLO_BODY);
serve(serveArgs(), () =>
  http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  }),
);
