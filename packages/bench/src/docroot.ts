// The one document root every static contender serves, made fresh for each run.
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const FILES = {
  '1k': { path: '/file-1k.bin', bytes: 1024 },
  '100k': { path: '/file-100k.bin', bytes: 100 * 1024 },
  '10m': { path: '/file-10m.bin', bytes: 10 * 1024 * 1024 },
} as const;
export type FileSize = keyof typeof FILES;

/** The hello route's path; static contenders do not serve it. */
export const HELLO_PATH = '/hello';
/** What the hello route answers. */
export const HELLO_BODY = 'hello';

export interface DocRoot {
  dir: string;
  remove(): void;
}

export function makeDocRoot(): DocRoot {
  const dir = mkdtempSync(path.join(tmpdir(), 'kevent-bench-root-'));
  // Servers may drop privileges to another user (nginx workers): the root must be readable.
  chmodSync(dir, 0o755);
  for (const f of Object.values(FILES)) {
    writeFileSync(path.join(dir, f.path), randomBytes(f.bytes), { mode: 0o644 });
  }
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>bench</title>\n', { mode: 0o644 });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
