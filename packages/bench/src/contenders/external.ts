// Contenders defined by a command line in commands.ts: the project's own servers.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startServerProcess } from './process-server.js';
import { EXTERNAL_COMMANDS, envOverride, type ExternalCommand } from './commands.js';
import type { Contender, StartOptions } from './types.js';

function fill(template: string, o: StartOptions): string[] {
  const vars: Record<string, string> = {
    root: o.root, port: String(o.port), threads: String(o.threads), backlog: String(o.backlog),
  };
  // Split first so a substituted path with spaces stays one argument.
  return template.trim().split(/\s+/).map((w) => w.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? `{${k}}`));
}

function external(c: ExternalCommand): Contender {
  const override = envOverride(c.name);
  return {
    name: c.name,
    description: c.description,
    route: c.route,
    unavailable: (repoRoot) => {
      if (override) return null;
      return existsSync(path.join(repoRoot, c.entry)) ? null : `not available (${c.entry} not built yet)`;
    },
    start: (o) => {
      const [cmd, ...args] = fill(override ?? c.command, o);
      return startServerProcess({ cmd: cmd === 'node' ? process.execPath : cmd!, args }, o);
    },
  };
}

export const externalContenders: Contender[] = EXTERNAL_COMMANDS.map(external);
