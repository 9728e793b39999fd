// The public engine object: a typed, promise-shaped handle on the native engine.
import { makeDispatch } from './handler.js';
import { addon, type NativeEngine, type ThreadStats } from './native.js';
import { resolveOptions, type AccessLogEntry, type EngineOptions, type ResolvedOptions } from './options.js';

export interface StopOptions {
  /** ms that in-flight responses may take to finish before connections are cut. Default 5000. */
  grace?: number;
}

export class Engine {
  readonly options: Readonly<ResolvedOptions>;
  #native: NativeEngine;
  #port: number | null = null;
  #stopping: Promise<void> | null = null;

  constructor(options: EngineOptions) {
    this.options = Object.freeze(resolveOptions(options));
    const onError = options.onHandlerError ?? ((err: unknown) => console.error('kevent handler error:', err));
    const dispatch = options.handler ? makeDispatch(options.handler, () => this.#native, onError) : undefined;
    const accessLog = options.accessLog ? guardAccessLog(options.accessLog, onError) : undefined;
    this.#native = new addon.NativeEngine(this.options, dispatch, accessLog);
  }

  /** Binds and starts the I/O threads; resolves with the bound port. */
  async start(): Promise<number> {
    if (this.#port !== null) throw Object.assign(new Error('engine already started'), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    this.#port = this.#native.start();
    this.#stopping = null;
    return this.#port;
  }

  /** Stops accepting now, lets in-flight responses finish within `grace` ms, then closes all. */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.#stopping) return this.#stopping;
    const grace = options.grace ?? 5000;
    this.#stopping = this.#native.stop(grace).then(() => {
      this.#port = null;
    });
    return this.#stopping;
  }

  /** The bound port, or null when not running. */
  get port(): number | null {
    return this.#port;
  }

  /** http://host:port/ of the running engine. */
  get url(): string | null {
    if (this.#port === null) return null;
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host}:${this.#port}/`;
  }

  /** Per I/O thread counters (accepted connections show how wake-one spreads the load; access log drops). */
  stats(): ThreadStats[] {
    return this.#native.stats();
  }
}

// The native side calls it from a thread-safe function, where a throw would be fatal. A batch
// arrives as JSON: one string crossing, and JSON.parse builds the entries.
function guardAccessLog(log: (entries: AccessLogEntry[]) => void, onError: (err: unknown) => void) {
  return (json: string) => {
    try {
      const result: unknown = log(JSON.parse(json) as AccessLogEntry[]);
      // An async logger's rejection would otherwise be an unhandled rejection, which is fatal.
      if (result instanceof Promise) result.catch(onError);
    } catch (err) {
      onError(err);
    }
  };
}

export function createEngine(options: EngineOptions): Engine {
  return new Engine(options);
}

/** An engine serving `root` as static files. */
export function serveStatic(root: string, options: Omit<EngineOptions, 'root'> = {}): Engine {
  return new Engine({ ...options, root });
}
