// kevent-serve in a child process, as the CLI tests run it: the URL line and pino's
// startup line parsed, stdout kept, signals and exit awaited.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';

export const CLI = new URL('../dist/cli.js', import.meta.url).pathname;

// Resolves { child, port, url, listening (the startup log line as an object), out() }.
export function serve(args, { cwd } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`exited ${code} before listening:\n${out}\n${err}`));
    child.on('exit', onExit);
    child.stdout.on('data', (d) => {
      out += d;
      // Ready once both the URL line and pino's startup line are out.
      const m = /serving .* at (http:\/\/\S+)/.exec(out);
      const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
      if (!m || !line) return;
      child.off('exit', onExit);
      resolve({ child, url: m[1], port: Number(new URL(m[1]).port), listening: JSON.parse(line), out: () => out });
    });
  });
}

// Signals the server and resolves its exit code once stdout is drained.
export async function stop(server, signal = 'SIGTERM') {
  const exited = once(server.child, 'exit');
  const drained = once(server.child.stdout, 'end');
  server.child.kill(signal);
  const [[code]] = await Promise.all([exited, drained]);
  return code;
}

export function run(args, options = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20000, ...options });
}
