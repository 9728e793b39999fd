// Builds the addon with node-gyp against the headers of the node that runs this script.
// Distribution nodes (Debian's /usr/bin/node) ship headers under <prefix>/include/node; using
// them avoids a header download, which this project's machines cannot make.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const prefix = path.dirname(path.dirname(process.execPath));
const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
// Incremental after the first configure (install configures, `pnpm build` re-makes).
const configured = existsSync(path.join(root, 'build', 'config.gypi')) && !process.argv.includes('--rebuild');
const args = [configured ? 'build' : 'rebuild', '-j', 'max'];
if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
if (process.env.KEVENT_DEBUG) args.push('--debug');
// KEVENT_ASAN=1: AddressSanitizer build (run node with LD_PRELOAD=$(gcc -print-file-name=libasan.so)).
// gyp's Makefile reads CFLAGS/CXXFLAGS/LDFLAGS from the environment; a plain build after it
// needs --rebuild to drop the instrumented objects.
const env = { ...process.env };
if (process.env.KEVENT_ASAN) {
  const asan = '-fsanitize=address -fno-omit-frame-pointer -g';
  for (const name of ['CFLAGS', 'CXXFLAGS', 'LDFLAGS']) env[name] = `${env[name] ?? ''} ${asan}`.trim();
}
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const r = spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit', cwd: root, env });
process.exit(r.status ?? 1);
