// kevent-serve's configuration: the config file (JSON, TypeScript or JavaScript), the flags
// that take apart into options, and the checks that name the key and the file at fault.
import { readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveOptions, type EngineOptions } from './options.js';

/** What a config file may hold: engine options plus the keys only kevent-serve has. */
export interface ServeConfig extends Omit<EngineOptions, 'handler' | 'onHandlerError' | 'accessLog'> {
  /** ms that in-flight responses get on SIGINT/SIGTERM. Default 5000. */
  grace?: number;
  /** true or '-': the access log on stdout; a path: appended to that file; false: off (default). */
  accessLog?: string | boolean;
}

export class ConfigError extends Error {
  readonly code = 'ERR_KEVENT_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Kind = 'string' | 'integer' | 'boolean' | 'string[]' | 'object[]' | 'object' | 'string|boolean';

// Every key, so a new engine option fails to compile here until the CLI knows its type.
const KINDS: Record<keyof ServeConfig, Kind> = {
  root: 'string', host: 'string', port: 'integer', threads: 'integer', reusePort: 'boolean', backlog: 'integer',
  index: 'string[]', dotfiles: 'string', followSymlinks: 'boolean', listing: 'boolean', precompressed: 'boolean',
  cacheRules: 'object[]', headerRules: 'object[]', errorPages: 'object', maxRanges: 'integer', mimeTypes: 'object',
  fileCacheEntries: 'integer', fileCacheTtl: 'integer', accessLogLimit: 'integer', smallFileMax: 'integer',
  maxRequestLine: 'integer', maxHeaderSize: 'integer', maxHeaders: 'integer', maxBodySize: 'integer',
  maxChunkExtension: 'integer', maxRequestsPerConnection: 'integer', maxConnections: 'integer',
  headerTimeout: 'integer', bodyTimeout: 'integer', idleTimeout: 'integer', sendTimeout: 'integer',
  lingerTimeout: 'integer', grace: 'integer', accessLog: 'string|boolean',
};

function isKind(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string': return typeof value === 'string';
    case 'integer': return Number.isSafeInteger(value) && (value as number) >= 0;
    case 'boolean': return typeof value === 'boolean';
    case 'string[]': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'object[]': return Array.isArray(value) && value.every((v) => v !== null && typeof v === 'object');
    case 'object': return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'string|boolean': return typeof value === 'string' || typeof value === 'boolean';
  }
}

const KIND_NAMES: Record<Kind, string> = {
  string: 'a string', integer: 'a non-negative integer', boolean: 'true or false', 'string[]': 'a list of strings',
  'object[]': 'a list of objects', object: 'an object', 'string|boolean': 'a path, "-", true or false',
};

/**
 * Checks keys and types, then every value as the engine would, and resolves the paths
 * (root, errorPages, the access log file) against `baseDir`. Errors name the key and `source`.
 */
export function checkConfig(raw: unknown, source: string, baseDir: string): ServeConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`${source}: the configuration must be an object`);
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (!(key in KINDS)) throw new ConfigError(`${source}: unknown key '${key}'`);
    const kind = KINDS[key as keyof ServeConfig];
    if (!isKind(value, kind)) throw new ConfigError(`${source}: '${key}' must be ${KIND_NAMES[kind]}, got ${JSON.stringify(value)}`);
    config[key] = value;
  }
  const out = config as ServeConfig;
  if (out.root !== undefined) out.root = path.resolve(baseDir, out.root);
  if (typeof out.accessLog === 'string' && out.accessLog !== '-') out.accessLog = path.resolve(baseDir, out.accessLog);
  if (out.errorPages) {
    out.errorPages = Object.fromEntries(
      Object.entries(out.errorPages).map(([status, file]) => [
        status,
        typeof file === 'string' && file !== '' ? path.resolve(baseDir, file) : file,
      ]),
    );
  }
  const { grace: _grace, accessLog: _accessLog, ...engine } = out;
  try {
    // The engine's own checks (patterns, header values, statuses, ranges); root may not exist yet.
    const pages = Object.entries(engine.errorPages ?? {}).map(([status, file]) => [status, file ? 'page' : file]);
    resolveOptions({ ...engine, root: engine.root ?? baseDir, errorPages: Object.fromEntries(pages) });
  } catch (err) {
    throw new ConfigError(`${source}: ${(err as Error).message.replace(/^options\./, '')}`);
  }
  return out;
}

/** errorPages hold absolute paths until the root is known; the engine wants them under it. */
export function errorPagesUnder(root: string, pages: Record<number, string>, source: string): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [status, file] of Object.entries(pages)) {
    const rel = path.relative(root, file);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
      throw new ConfigError(`${source}: errorPages[${status}]: ${file} is not a file under the root ${root}`);
    out[Number(status)] = rel.split(path.sep).join('/');
  }
  return out;
}

// Node 20 cannot strip types itself; the TypeScript compiler (already the build's) transpiles
// one file without type checking, and is loaded only for a .ts config.
async function transpileTs(file: string, source: string): Promise<string> {
  const ts = (await import('typescript')).default;
  const out = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  const errors = out.diagnostics ?? [];
  if (errors.length > 0)
    throw new ConfigError(`${file}: ${ts.flattenDiagnosticMessageText(errors[0].messageText, '\n')}`);
  return out.outputText;
}

async function importTs(file: string): Promise<Record<string, unknown>> {
  const js = await transpileTs(file, await readFile(file, 'utf8'));
  // Next to the original, so its relative and package imports resolve as written.
  const twin = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.kevent.mjs`);
  try {
    await writeFile(twin, js, { flag: 'wx' });
  } catch {
    // A read-only directory: imports of files and packages will not resolve, the rest works.
    return import(`data:text/javascript;base64,${Buffer.from(js).toString('base64')}`);
  }
  try {
    return await import(pathToFileURL(twin).href);
  } finally {
    await unlink(twin).catch(() => {});
  }
}

/** Reads a config file: .json, .ts/.mts (transpiled), or .js/.mjs/.cjs (imported; the default export). */
export async function loadConfig(file: string): Promise<ServeConfig> {
  const abs = path.resolve(file);
  const ext = path.extname(abs).toLowerCase();
  let raw: unknown;
  try {
    if (ext === '.json') {
      raw = JSON.parse(await readFile(abs, 'utf8'));
    } else if (ext === '.ts' || ext === '.mts') {
      raw = (await importTs(abs)).default;
    } else if (ext === '.js' || ext === '.mjs' || ext === '.cjs') {
      raw = (await import(pathToFileURL(abs).href)).default;
    } else {
      throw new ConfigError(`${abs}: a config file must end in .json, .ts, .mts, .js, .mjs or .cjs`);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${abs}: cannot load: ${(err as Error).message}`);
  }
  if (raw === undefined) throw new ConfigError(`${abs}: no default export`);
  return checkConfig(raw, abs, path.dirname(abs));
}

// Cache-Control directives that take '=' (RFC 9111 5.2): text before the first '=' ending in
// one of them is a value for every file, not a pattern.
const DIRECTIVE_BEFORE_EQUALS = /(^|[\s,])(max-age|s-maxage|stale-while-revalidate|stale-if-error|no-cache|private)$/i;

/** `--cache-control '<value>'` (every file) or `'<pattern>=<value>'`; a pattern has no '='. */
export function parseCacheControl(arg: string): { match: string; cacheControl: string } {
  const eq = arg.indexOf('=');
  if (eq < 0 || DIRECTIVE_BEFORE_EQUALS.test(arg.slice(0, eq).trimEnd())) return { match: '*', cacheControl: arg.trim() };
  return { match: arg.slice(0, eq).trim(), cacheControl: arg.slice(eq + 1).trim() };
}

/** `--error-page <status>=<file>`: the file relative to the working directory. */
export function parseErrorPage(arg: string, cwd: string): [string, string] {
  const eq = arg.indexOf('=');
  if (eq < 1 || eq === arg.length - 1) throw new ConfigError(`--error-page '${arg}': expected <status>=<file>`);
  return [arg.slice(0, eq), path.resolve(cwd, arg.slice(eq + 1))];
}
