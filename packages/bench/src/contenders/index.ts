// The contender list, in report order. Add a contender: write a module exporting a Contender
// (see types.ts; process-server.ts does the spawning) and list it here, or, for a server
// started by a plain command line, add an entry to commands.ts.
import { externalContenders } from './external.js';
import { nodeHttpHello, nodeHttpStatic } from './node-http.js';
import { nginx, nginxHello } from './nginx.js';
import { helloFloor } from './hello-floor.js';
import { lighttpd } from './lighttpd.js';
import type { Contender } from './types.js';

export const CONTENDERS: Contender[] = [...externalContenders, nodeHttpStatic, nodeHttpHello, nginx, lighttpd, nginxHello, helloFloor];

/** The contenders the ratios are taken against, per route. */
export const BASELINES = { node: { static: 'node-http-static', hello: 'node-http-hello' }, nginx: 'nginx', lighttpd: 'lighttpd' } as const;

export type { Contender, Route, Running, StartOptions } from './types.js';
