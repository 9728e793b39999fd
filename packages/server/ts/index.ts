export { Engine, createEngine, serveStatic, type StopOptions } from './engine.js';
export type { EngineOptions, DotfilesPolicy, ResolvedOptions } from './options.js';
export type { ThreadStats } from './native.js';
export type { EngineRequest, EngineResponse, RequestHandler } from './handler.js';
