// A contender is one server the bench loads: it knows how to start itself on 127.0.0.1 with
// the shared document root, a thread count and a port, which pids it runs as, and how to stop.
export type Route = 'static' | 'hello';

export interface StartOptions {
  /** Document root shared by every static contender. */
  root: string;
  port: number;
  /** Worker processes/threads: the number of server cores. */
  threads: number;
  /** taskset CPU list the server is pinned to. */
  cpus: string;
  /** RLIMIT_NOFILE for the server. */
  nofile: number;
  /** Listen backlog: the kernel's maximum (net.core.somaxconn). */
  backlog: number;
  /** Private scratch directory for generated configs, pid files and error logs. */
  workDir: string;
  repoRoot: string;
}

export interface Running {
  port: number;
  /** Every pid of the server (master and workers), as last seen. */
  pids: number[];
  /** Stops the server by pid; resolves to the pids that survived (normally none). */
  stop(): Promise<number[]>;
  /** The last lines the server printed, for error messages. */
  logTail(): string;
}

export interface Contender {
  name: string;
  /** What it is, for the report. */
  description: string;
  route: Route;
  /** null when it can run here, else why not ("not installed: apt-get install nginx"). */
  unavailable(repoRoot: string): string | null;
  start(o: StartOptions): Promise<Running>;
}
