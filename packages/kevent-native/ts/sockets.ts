// Socket and fd calls for servers written in JS on a Queue. Every fd is non-blocking and
// close-on-exec; transfers return null where the kernel says EAGAIN; errors carry `code`.
import { native } from './native.js';

export type { AcceptedSocket, SocketAddress } from './native.js';

/** A listening TCP socket; `backlog` defaults to the kernel maximum (net.core.somaxconn). */
export const listen = native.listen;
/** A non-blocking connect; wait for KEVENT_SOCKET_SEND to learn it completed. */
export const connect = native.connect;
/** The next connection, or null when none is waiting. */
export const accept = native.accept;
export const localAddress = native.localAddress;
/** Bytes received, 0 at end of stream, null when nothing is there yet. */
export const recv = native.recv;
/** Bytes sent (never raises SIGPIPE), null when the socket buffer is full. */
export const send = native.send;
export const read = native.read;
export const write = native.write;
export const writev = native.writev;
export const shutdown = native.shutdown;
export const close = native.close;
export const setNoDelay = native.setNoDelay;
/** TCP_CORK: hold partial frames until uncorked, to send headers and body together. */
export const setCork = native.setCork;
export const pipe = native.pipe;
export const socketpair = native.socketpair;
