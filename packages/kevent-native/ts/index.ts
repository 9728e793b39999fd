export * from './constants.js';
export { Queue, type QueueOptions, type SharedQueue, type OnReadyOptions } from './queue.js';
export { Ring, ringBytes } from './ring.js';
export type { Ukevent } from './ukevent.js';
export {
  aioSendfile, aioSendfilePath, configureAio, aioStats, AIO_DEFAULT_THREADS,
  type AioOptions, type AioStats, type FileSize,
} from './aio.js';
export type { CodedError } from './errors.js';
export * as sockets from './sockets.js';
export {
  listen, connect, accept, localAddress, recv, send, read, write, writev, shutdown, close,
  setNoDelay, setCork, pipe, socketpair,
} from './sockets.js';
