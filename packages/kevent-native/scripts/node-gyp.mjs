// Runs node-gyp for an addon of this workspace against the headers of the node running it.
// Distribution nodes (Debian's /usr/bin/node) ship headers under <prefix>/include/node; using
// them avoids a header download, which this project's machines cannot make. Shared by every
// addon here (packages/server builds through it too).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Builds the addon in `root`: a full configure + build with `rebuild` (or before the first
 * configure), an incremental make otherwise. KEVENT_DEBUG=1 builds Debug; KEVENT_ASAN=1 builds
 * with AddressSanitizer (run node with LD_PRELOAD=$(gcc -print-file-name=libasan.so); a plain
 * build afterwards needs `rebuild` to drop the instrumented objects). Returns the exit status.
 */
export function runNodeGyp(root, { rebuild = false } = {}) {
  const prefix = path.dirname(path.dirname(process.execPath));
  const configured = existsSync(path.join(root, 'build', 'config.gypi')) && !rebuild;
  const args = [configured ? 'build' : 'rebuild', '-j', 'max'];
  if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  if (process.env.KEVENT_DEBUG) args.push('--debug');
  // gyp's Makefile reads CFLAGS/CXXFLAGS/LDFLAGS from the environment.
  const env = { ...process.env };
  if (process.env.KEVENT_ASAN) {
    const asan = '-fsanitize=address -fno-omit-frame-pointer -g';
    for (const name of ['CFLAGS', 'CXXFLAGS', 'LDFLAGS']) env[name] = `${env[name] ?? ''} ${asan}`.trim();
  }
  const gyp = require.resolve('node-gyp/bin/node-gyp.js');
  return spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit', cwd: root, env }).status ?? 1;
}
