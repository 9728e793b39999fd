// Mapping a request target to a file under the document root, and the response head for it.
import { realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.ico': 'image/x-icon', '.wasm': 'application/wasm',
  '.pdf': 'application/pdf', '.woff2': 'font/woff2', '.xml': 'application/xml',
};

export function contentType(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export type Resolution =
  | { kind: 'file'; file: string; stats: Stats }
  | { kind: 'redirect'; location: string }
  | { kind: 'error'; status: number };

/**
 * Percent-decodes the path once, refuses NUL, encoded slashes and dotfiles, normalises . and
 * .., and never leaves `root` (a real path, as `realpathSync` gives it), not even through a
 * symlink. Directories serve their index.html.
 */
export function resolveTarget(root: string, target: string): Resolution {
  const rawPath = target.split('?', 1)[0]!;
  if (!rawPath.startsWith('/') || /%2f|%5c|%00/i.test(rawPath)) return { kind: 'error', status: 400 };
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { kind: 'error', status: 400 };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { kind: 'error', status: 400 };
  const normalised = path.posix.normalize(decoded);
  if (normalised.split('/').some((part) => part.startsWith('.') && part.length > 0)) return { kind: 'error', status: 404 };
  const file = path.join(root, normalised);
  if (file !== root && !file.startsWith(root + path.sep)) return { kind: 'error', status: 400 };
  let stats: Stats;
  try {
    // A symlink may point anywhere; only what really lies under the root is served.
    const real = realpathSync(file);
    if (real !== root && !real.startsWith(root + path.sep)) return { kind: 'error', status: 404 };
    stats = statSync(real);
  } catch {
    return { kind: 'error', status: 404 };
  }
  if (stats.isDirectory()) {
    if (!rawPath.endsWith('/')) return { kind: 'redirect', location: `${rawPath}/` };
    return resolveTarget(root, `${rawPath}index.html`);
  }
  if (!stats.isFile()) return { kind: 'error', status: 403 };
  return { kind: 'file', file, stats };
}
