export { Engine, createEngine, serveStatic, type StopOptions } from './engine.js';
export type {
  EngineOptions, DotfilesPolicy, ResolvedOptions, PathPattern, CacheRule, HeaderRule, AccessLogEntry,
} from './options.js';
export type { ThreadStats } from './native.js';
export type { EngineRequest, EngineResponse, RequestHandler } from './handler.js';
export type { ServeConfig } from './config.js';
