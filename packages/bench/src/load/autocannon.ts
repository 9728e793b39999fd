import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPinned } from '../proc.js';
import type { LoadTool } from './types.js';

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'autocannon-child.js');

export const autocannonTool: LoadTool = {
  name: 'autocannon',
  unavailable: () => null,
  async run(spec, onChild) {
    const r = await runPinned(process.execPath, [childScript, JSON.stringify(spec)], spec, onChild);
    if (r.code !== 0) throw new Error(`autocannon exited ${r.code}: ${r.stderr.slice(-500)}`);
    const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    return {
      rps: o.requests / o.durationSec,
      bytesPerSec: o.bytes / o.durationSec,
      latencyMs: o.latencyMs,
      requests: o.requests,
      errors: o.errors,
      non2xx: o.non2xx,
      timeouts: o.timeouts,
      wallSec: r.wallSec,
      loadCpu: r.cpuSec / r.wallSec,
    };
  },
};
