// One client connection: bytes received but not yet parsed, bytes waiting for the socket to
// take them, and whether a response is in flight (responses go out strictly in order).
export class Connection {
  input: Buffer = Buffer.alloc(0);
  /** Response bytes the socket did not take yet. */
  output: Buffer[] = [];
  /** Cookie of the aio_sendfile_path job in flight, if any. */
  sending: number | null = null;
  waitingForSend = false;
  /** The last response said `Connection: close`: serve nothing after it. */
  closeWhenDone = false;
  /** The client shut its side: serve the complete requests it sent, then close. */
  peerDone = false;
  /** Response done, write side shut: reading and discarding until the client closes. */
  lingering = false;
  closed = false;

  constructor(readonly fd: number) {}

  get busy(): boolean {
    return this.sending !== null || this.output.length > 0;
  }

  append(chunk: Buffer): void {
    this.input = this.input.length ? Buffer.concat([this.input, chunk]) : Buffer.from(chunk);
  }
}
