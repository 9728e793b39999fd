// Starting a contender is the same for every kind once its command line is known: a pinned
// spawn, readiness by connecting to the port, the pid tree recorded, stop by pid.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnPinned, waitForPort, processTree, stopPids, trackPids } from '../proc.js';
import type { Running, StartOptions } from './types.js';

export interface ServerCommand {
  cmd: string;
  args: string[];
  /** nginx stops gracefully on SIGQUIT and fast on SIGTERM; TERM is right for all here. */
  stopSignal?: NodeJS.Signals;
  env?: NodeJS.ProcessEnv;
}

const READY_TIMEOUT_MS = 15_000;

export async function startServerProcess(c: ServerCommand, o: StartOptions): Promise<Running> {
  const child = spawnPinned(c.cmd, c.args, { cpus: o.cpus, nofile: o.nofile, cwd: o.repoRoot, env: c.env });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (e) => keep(Buffer.from(String(e))));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${c.cmd}`);
  trackPids([pid]);
  const running: Running = {
    port: o.port,
    pids: [pid],
    logTail: () => log.trim().split('\n').slice(-10).join('\n'),
    stop: async () => {
      // Refresh: workers may have been forked (or re-forked) since start.
      const now = processTree(pid);
      const all = [...new Set([pid, ...running.pids, ...now])];
      running.pids = all;
      return stopPids(all, c.stopSignal ?? 'SIGTERM');
    },
  };
  try {
    await waitForPort(o.port, child, READY_TIMEOUT_MS);
    // Multi-process servers fork workers around the time they listen; give them a moment.
    await new Promise((r) => setTimeout(r, 300));
    running.pids = processTree(pid);
    trackPids(running.pids);
    return running;
  } catch (e) {
    await running.stop();
    throw new Error(`${(e as Error).message}\n${running.logTail()}`);
  }
}

/** For peers driven by a generated config file: writes it to the work dir, then starts. */
export function startWithConfig(
  o: StartOptions,
  file: string,
  config: string,
  command: (confPath: string) => ServerCommand,
): Promise<Running> {
  mkdirSync(o.workDir, { recursive: true });
  const conf = path.join(o.workDir, file);
  writeFileSync(conf, config);
  return startServerProcess(command(conf), o);
}
