// THE place to say how the project's own servers are started. They are built by other
// packages (packages/server); until their entry file exists the contender reports
// "not available". Placeholders: {root} {port} {threads} {backlog}. Each command can also be
// overridden without editing code: BENCH_CMD_KEVENT_SERVE="node my/cli.js {root} --port {port}"
// (name upper-cased, dashes as underscores). Paths are relative to the repository root.
import type { Route } from './types.js';

export interface ExternalCommand {
  name: string;
  description: string;
  route: Route;
  /** The file whose existence means "built": usually the command's script. */
  entry: string;
  /** Command line template; "node" means the Node running the harness. */
  command: string;
}

export const EXTERNAL_COMMANDS: ExternalCommand[] = [
  {
    name: 'kevent-serve',
    description: 'kevent-serve: the native static server (packages/server, issue 4)',
    route: 'static',
    entry: 'packages/server/dist/cli.js',
    command: 'node packages/server/dist/cli.js {root} --port {port} --threads {threads}',
  },
  {
    name: 'kevent-js',
    description: 'kevent-js: a static server driven from JS through the kevent API (issue 3)',
    route: 'static',
    entry: 'examples/kevent-js/dist/cli.js',
    // One JS thread by design: it is the kevent API driven from Node's main thread.
    command: 'node examples/kevent-js/dist/cli.js {root} --port {port}',
  },
  {
    name: 'kevent-hello',
    description: 'the native engine\'s JS hook answering "hello" (packages/server, issue 4)',
    route: 'hello',
    entry: 'packages/server/bench/hello-server.mjs',
    // The engine's JS handler on one I/O thread (the script fixes threads: 1).
    command: 'node packages/server/bench/hello-server.mjs kevent {port}',
  },
];

export function envOverride(name: string): string | undefined {
  return process.env[`BENCH_CMD_${name.toUpperCase().replace(/-/g, '_')}`];
}
