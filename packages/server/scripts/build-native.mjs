// Builds the kevent_server addon through packages/kevent-native's node-gyp runner (local
// node headers, no download, KEVENT_DEBUG / KEVENT_ASAN). First makes sure llhttp's C is on
// the machine: on a fresh machine it runs scripts/install-build-deps.sh (Debian node-llhttp)
// and otherwise stops with a message that names the package.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runNodeGyp } from '../../kevent-native/scripts/node-gyp.mjs';
import { locateLlhttp, MISSING_MESSAGE } from './find-llhttp.mjs';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const repo = path.dirname(path.dirname(root));

if (!locateLlhttp()) {
  console.error('kevent_server: llhttp C sources missing; running scripts/install-build-deps.sh');
  spawnSync('bash', [path.join(repo, 'scripts', 'install-build-deps.sh')], { stdio: 'inherit' });
  if (!locateLlhttp()) {
    console.error(MISSING_MESSAGE);
    process.exit(1);
  }
}

process.exit(runNodeGyp(root, { rebuild: process.argv.includes('--rebuild') }));
