// Engine options: their types, defaults and validation. The native side trusts what leaves here.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { RequestHandler } from './handler.js';

export type DotfilesPolicy = 'deny' | 'ignore' | 'allow';

/**
 * A URL path pattern: `*` matches within one segment, `**` across segments, `?` one
 * character. A pattern without '/' matches the last segment ('*.css'); one with '/' matches
 * the whole decoded path from the root ('/assets/**').
 */
export type PathPattern = string;

/** mod_expire-like: the first rule whose pattern matches sets Cache-Control (and Expires from max-age). */
export interface CacheRule {
  match: PathPattern;
  /** The Cache-Control value, e.g. 'public, max-age=86400, immutable'. */
  cacheControl: string;
}

/** Extra headers on static responses; every matching rule adds its headers. */
export interface HeaderRule {
  match: PathPattern;
  headers: Record<string, string>;
}

/** One finished response, as the access log receives it. */
export interface AccessLogEntry {
  /** ms since the epoch when the response was queued. */
  time: number;
  remoteAddress: string;
  method: string;
  url: string;
  httpVersion: '1.0' | '1.1';
  /** 499 (as nginx): the connection closed before the answer was ready. */
  status: number;
  /** Body bytes of the response (Content-Length, or the range sent). */
  bytes: number;
  referer: string;
  userAgent: string;
  /** Which I/O thread served it. */
  thread: number;
}

export interface EngineOptions {
  /** Directory served. Required unless a handler takes every request. */
  root?: string;
  /**
   * Takes the requests static files do not: with a root, paths that name no file; without
   * one, every request. Errors it throws or rejects with answer 500.
   */
  handler?: RequestHandler;
  /** Called with errors from the handler and the accessLog function (default: written to stderr). */
  onHandlerError?: (err: unknown) => void;
  /** Address to bind. Default '127.0.0.1'. */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Native I/O threads. Default: the number of CPUs. */
  threads?: number;
  /** One SO_REUSEPORT listening socket per thread instead of one shared wake-one socket. */
  reusePort?: boolean;
  /** listen() backlog; the kernel caps it at net.core.somaxconn. Default 4096. */
  backlog?: number;
  /** Index files tried for a directory URL ending in '/'. Default ['index.html']. */
  index?: string[];
  /** Paths with a segment starting with '.': 'deny' (403, default), 'ignore' (404), 'allow'. */
  dotfiles?: DotfilesPolicy;
  /** Follow symlinks, even out of the root. Default false: any symlink answers 403. */
  followSymlinks?: boolean;
  /** A directory without an index file: an HTML listing instead of 403. Default false. */
  listing?: boolean;
  /**
   * Content-Type additions and overrides by file extension (no dot, case-insensitive):
   * { md: 'text/markdown', foo: 'application/x-foo' }. Text types get '; charset=utf-8' unless
   * the value has its own parameters. Default: none beyond the built-in table.
   */
  mimeTypes?: Record<string, string>;
  /** Serve `name.br` / `name.gz` for `name` when Accept-Encoding allows it. Default true. */
  precompressed?: boolean;
  /** Cache-Control / Expires by path pattern; first match wins. Default none. */
  cacheRules?: CacheRule[];
  /** Extra response headers by path pattern. Default none. */
  headerRules?: HeaderRule[];
  /** Bodies for error responses: status -> file under root, e.g. { 404: '404.html' }. */
  errorPages?: Record<number, string>;
  /** Most ranges answered as multipart/byteranges (after coalescing); more get 200. Default 16. */
  maxRanges?: number;
  /** Open-file cache entries per I/O thread; 0 turns the cache off. Default 1024. */
  fileCacheEntries?: number;
  /** ms after which a cached file is checked again even without an inotify event. Default 1000. */
  fileCacheTtl?: number;
  /**
   * Receives finished responses in batches, off the I/O threads: one call per I/O thread loop
   * turn (or per 1024 records), never per request. Errors it throws go to onHandlerError.
   * Default: no access log.
   */
  accessLog?: (entries: AccessLogEntry[]) => void;
  /**
   * Access log records handed to JS and not yet delivered (JS busy) before new ones are
   * dropped and counted in stats().accessLogDropped; the I/O threads never wait. Default 65536.
   */
  accessLogLimit?: number;
  /** Bodies up to this many bytes go from memory; larger ones by aio_sendfile on the pool. Default 65536. */
  smallFileMax?: number;
  /** Longest request line (414). Default 8192. */
  maxRequestLine?: number;
  /** Largest header block, request line included (431). Default 16384. */
  maxHeaderSize?: number;
  /** Most header fields (431). Default 100. */
  maxHeaders?: number;
  /** Largest request body (413). Default 1 MiB. */
  maxBodySize?: number;
  /** Longest chunk extension on one chunk-size line (400). Default 1024. */
  maxChunkExtension?: number;
  /** Requests on one connection before it closes; 0 for no limit. Default 10000. */
  maxRequestsPerConnection?: number;
  /** Open connections; past it new clients wait in the backlog. Default 16384. */
  maxConnections?: number;
  /** ms from the start of a request to the end of its head (408 and close). Default 10000. */
  headerTimeout?: number;
  /** ms between two reads of a request body (408 and close). Default 10000. */
  bodyTimeout?: number;
  /** ms a keep-alive connection may wait for its next request. Default 5000. */
  idleTimeout?: number;
  /** ms without send progress before a connection is closed. Default 30000. */
  sendTimeout?: number;
  /** ms to read and drop input after a response that closes the connection. Default 1000. */
  lingerTimeout?: number;
}

export type ResolvedOptions = Required<Omit<EngineOptions, 'handler' | 'onHandlerError' | 'accessLog'>>;

const DEFAULTS: Omit<ResolvedOptions, 'root' | 'threads'> = {
  host: '127.0.0.1',
  port: 0,
  reusePort: false,
  backlog: 4096,
  index: ['index.html'],
  dotfiles: 'deny',
  followSymlinks: false,
  listing: false,
  mimeTypes: {},
  precompressed: true,
  cacheRules: [],
  headerRules: [],
  errorPages: {},
  maxRanges: 16,
  fileCacheEntries: 1024,
  fileCacheTtl: 1000,
  accessLogLimit: 65536,
  smallFileMax: 64 * 1024,
  maxRequestLine: 8 * 1024,
  maxHeaderSize: 16 * 1024,
  maxHeaders: 100,
  maxBodySize: 1024 * 1024,
  maxChunkExtension: 1024,
  maxRequestsPerConnection: 10000,
  maxConnections: 16384,
  headerTimeout: 10000,
  bodyTimeout: 10000,
  idleTimeout: 5000,
  sendTimeout: 30000,
  lingerTimeout: 1000,
};

const INTEGER_KEYS = [
  'port', 'threads', 'backlog', 'smallFileMax', 'maxRequestLine', 'maxHeaderSize', 'maxHeaders', 'maxBodySize',
  'maxChunkExtension', 'maxRequestsPerConnection', 'maxConnections', 'headerTimeout', 'bodyTimeout', 'idleTimeout',
  'sendTimeout', 'lingerTimeout', 'maxRanges', 'fileCacheEntries', 'fileCacheTtl', 'accessLogLimit',
] as const;

function invalid(message: string): never {
  const err = new RangeError(message) as RangeError & { code: string };
  err.code = 'ERR_INVALID_ARG_VALUE';
  throw err;
}

export function resolveOptions(options: EngineOptions): ResolvedOptions {
  if (!options || typeof options !== 'object') invalid('options must be an object');
  if (options.handler !== undefined && typeof options.handler !== 'function') invalid('options.handler must be a function');
  if (options.root === undefined ? !options.handler : typeof options.root !== 'string' || options.root === '')
    invalid('options.root must be a directory path (it may be left out only with a handler)');
  if (options.accessLog !== undefined && typeof options.accessLog !== 'function') invalid('options.accessLog must be a function');
  const { handler: _handler, onHandlerError: _onError, accessLog: _accessLog, ...rest } = options;
  const resolved: ResolvedOptions = {
    ...DEFAULTS,
    threads: availableParallelism(),
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    root: options.root === undefined ? '' : path.resolve(options.root),
  } as ResolvedOptions;
  for (const key of INTEGER_KEYS) {
    const v = resolved[key];
    if (!Number.isSafeInteger(v) || v < 0) invalid(`options.${key} must be a non-negative integer, got ${String(v)}`);
  }
  if (resolved.port > 65535) invalid('options.port must be at most 65535');
  if (resolved.threads < 1 || resolved.threads > 1024) invalid('options.threads must be 1 .. 1024');
  for (const key of ['headerTimeout', 'bodyTimeout', 'idleTimeout', 'sendTimeout', 'lingerTimeout'] as const) {
    if (resolved[key] < 1 || resolved[key] > 2 ** 31 - 1) invalid(`options.${key} must be 1 .. 2147483647 ms`);
  }
  if (!['deny', 'ignore', 'allow'].includes(resolved.dotfiles)) invalid("options.dotfiles must be 'deny', 'ignore' or 'allow'");
  if (!Array.isArray(resolved.index) || resolved.index.some((f) => typeof f !== 'string' || f === '' || f.includes('/')))
    invalid('options.index must be a list of file names');
  validateRules(resolved);
  return resolved;
}

function validPattern(p: unknown): p is string {
  return typeof p === 'string' && p !== '' && !p.includes('\0');
}

// Header names and values go into responses verbatim: no CR/LF/NUL, token names.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// type/subtype, optionally followed by parameters, as a Content-Type value.
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;[\t\x20-\x7e]*)?$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function validateRules(o: ResolvedOptions): void {
  if (typeof o.listing !== 'boolean') invalid('options.listing must be a boolean');
  if (typeof o.precompressed !== 'boolean') invalid('options.precompressed must be a boolean');
  if (!Array.isArray(o.cacheRules)) invalid('options.cacheRules must be an array');
  for (const [i, r] of o.cacheRules.entries()) {
    if (!r || !validPattern(r.match)) invalid(`options.cacheRules[${i}].match must be a path pattern`);
    if (typeof r.cacheControl !== 'string' || !FIELD_VALUE.test(r.cacheControl))
      invalid(`options.cacheRules[${i}].cacheControl must be a header value`);
  }
  if (!Array.isArray(o.headerRules)) invalid('options.headerRules must be an array');
  for (const [i, r] of o.headerRules.entries()) {
    if (!r || !validPattern(r.match)) invalid(`options.headerRules[${i}].match must be a path pattern`);
    if (!r.headers || typeof r.headers !== 'object') invalid(`options.headerRules[${i}].headers must be an object`);
    for (const [name, value] of Object.entries(r.headers)) {
      if (!TOKEN.test(name)) invalid(`options.headerRules[${i}]: '${name}' is not a header name`);
      if (typeof value !== 'string' || !FIELD_VALUE.test(value)) invalid(`options.headerRules[${i}]: bad value for '${name}'`);
    }
  }
  if (!o.errorPages || typeof o.errorPages !== 'object' || Array.isArray(o.errorPages)) invalid('options.errorPages must be an object');
  for (const [status, file] of Object.entries(o.errorPages)) {
    const n = Number(status);
    if (!Number.isInteger(n) || n < 400 || n > 599) invalid(`options.errorPages: '${status}' is not a 4xx/5xx status`);
    if (typeof file !== 'string' || file === '' || file.includes('\0')) invalid(`options.errorPages[${status}] must be a file path under root`);
  }
  if (o.maxRanges < 1) invalid('options.maxRanges must be at least 1');
  if (!o.mimeTypes || typeof o.mimeTypes !== 'object' || Array.isArray(o.mimeTypes)) invalid('options.mimeTypes must be an object');
  for (const [ext, type] of Object.entries(o.mimeTypes)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_+-]*$/.test(ext)) invalid(`options.mimeTypes: '${ext}' is not a file extension (no dot)`);
    if (typeof type !== 'string' || !MEDIA_TYPE.test(type)) invalid(`options.mimeTypes.${ext}: '${String(type)}' is not a media type`);
  }
}
