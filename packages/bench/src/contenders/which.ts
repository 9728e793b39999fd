import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Absolute path of an executable on PATH or in the sbin dirs (nginx lives there), or null. */
export function which(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}
