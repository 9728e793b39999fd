// Builds this package's addon (and its bench binaries): `--rebuild` reconfigures from scratch.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNodeGyp } from './node-gyp.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
process.exit(runNodeGyp(root, { rebuild: process.argv.includes('--rebuild') }));
