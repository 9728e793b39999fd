// Sections that run one of @kevent/native's C++ benches (built by its install step) and read
// its --json output.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const nativeBench = (repoRoot: string, name: string): string =>
  path.join(repoRoot, 'packages', 'kevent-native', 'build', 'Release', name);

export function missingBench(repoRoot: string, name: string): string | null {
  return existsSync(nativeBench(repoRoot, name)) ? null : `not built (${name}: run \`npx -y pnpm@9 install\`)`;
}

/** Runs the bench with --json; its stderr (per-row progress) goes to `onLine`. */
export function runJsonBench<T>(repoRoot: string, name: string, args: string[], onLine: (line: string) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = execFile(nativeBench(repoRoot, name), [...args, '--json'], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${name} ${args.join(' ')}: ${err.message}\n${stderr.slice(-2000)}`));
      else {
        try {
          resolve(JSON.parse(stdout) as T);
        } catch (e) {
          reject(new Error(`${name}: unreadable JSON (${(e as Error).message})`));
        }
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      const last = d.toString().trim().split('\n').pop();
      if (last) onLine(last.trim());
    });
  });
}

/** A taskset list ("0-1,3") as the comma list the C++ benches take ("0,1,3"). */
export function cpuList(taskset: string): string {
  return taskset
    .split(',')
    .flatMap((part) => {
      const [a, b] = part.split('-').map(Number);
      return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
    })
    .join(',');
}

/** A markdown table, numbers right-aligned after the first `left` columns. */
export const mdTable = (head: string[], body: (string | number)[][], left = 1): string =>
  [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i < left ? '---' : '---:')).join(' | ')} |`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
