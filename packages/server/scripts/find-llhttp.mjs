// Locates llhttp's C at build time (it is never committed): $LLHTTP_DIR if set (a directory
// holding llhttp.h, llhttp.c, api.c, http.c), else Debian's node-llhttp package.
// `node find-llhttp.mjs stage` copies them to gen/llhttp (gyp wants sources inside the
// package) and prints that directory for binding.gyp; it exits 1 with a message naming the
// package when the sources are absent.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const SOURCES = ['llhttp.c', 'api.c', 'http.c'];

export function locateLlhttp() {
  const candidates = [];
  if (process.env.LLHTTP_DIR) candidates.push({ src: process.env.LLHTTP_DIR, include: process.env.LLHTTP_DIR });
  candidates.push({ src: '/usr/share/llhttp', include: '/usr/share/include/llhttp' });
  for (const c of candidates) {
    if (SOURCES.every((f) => existsSync(path.join(c.src, f))) && existsSync(path.join(c.include, 'llhttp.h'))) return c;
  }
  return null;
}

export const MISSING_MESSAGE =
  "llhttp's C sources were not found. Install Debian's package node-llhttp " +
  '(as root: scripts/install-build-deps.sh, or apt-get install node-llhttp), ' +
  'or set LLHTTP_DIR to a directory with llhttp.h, llhttp.c, api.c and http.c.';

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = locateLlhttp();
  if (!found) {
    console.error(MISSING_MESSAGE);
    process.exit(1);
  }
  if (process.argv[2] === 'stage') {
    const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
    const dest = path.join(root, 'gen', 'llhttp');
    mkdirSync(dest, { recursive: true });
    for (const f of SOURCES) copyFileSync(path.join(found.src, f), path.join(dest, f));
    copyFileSync(path.join(found.include, 'llhttp.h'), path.join(dest, 'llhttp.h'));
    console.log('gen/llhttp');
  }
}
