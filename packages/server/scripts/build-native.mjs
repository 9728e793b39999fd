// Builds the kevent_server addon with node-gyp, as packages/kevent-native does (local node
// headers, no download). First makes sure llhttp's C is on the machine: on a fresh machine it
// runs scripts/install-build-deps.sh (Debian node-llhttp) and otherwise stops with a message
// that names the package.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { locateLlhttp, MISSING_MESSAGE } from './find-llhttp.mjs';

const require = createRequire(import.meta.url);
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

const prefix = path.dirname(path.dirname(process.execPath));
const configured = existsSync(path.join(root, 'build', 'config.gypi')) && !process.argv.includes('--rebuild');
const gypArgs = [configured ? 'build' : 'rebuild', '-j', 'max'];
if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) gypArgs.push(`--nodedir=${prefix}`);
if (process.env.KEVENT_DEBUG) gypArgs.push('--debug');
const r = spawnSync(process.execPath, [require.resolve('node-gyp/bin/node-gyp.js'), ...gypArgs], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
