// Runs autocannon in its own process so it can be pinned to the load cores and given its own
// fd limit; prints the result as one JSON line.
import autocannon from 'autocannon';
import type { LoadSpec } from './types.js';

const spec = JSON.parse(process.argv[2]!) as LoadSpec;

// autocannon has no "no keep-alive" switch (its reconnectRate drops the response from the
// counts), so we ask the server to close with "Connection: close". When the server closes,
// autocannon reconnects but keeps the request it already wrote on the dying socket queued, so
// every later latency would include the previous one's; clearing that queue on reconnect
// keeps each latency = connect + request + response.
type Client = { _connect: () => void; pipelinedRequests: { clear(): void; addBody(data: Buffer): void } };
const setupClient = (client: unknown) => {
  const c = client as Client;
  // autocannon appends every response body to a string (for expectBody, which we do not
  // use): on 10 MiB files that, not the server, was the limit (27 vs 760 MiB/s here).
  c.pipelinedRequests.addBody = () => {};
  if (spec.keepAlive) return;
  const connect = c._connect;
  c._connect = function (this: Client) {
    this.pipelinedRequests.clear();
    connect.call(this);
  };
};

const result = await autocannon({
  url: spec.url,
  connections: spec.concurrency,
  duration: spec.durationSec,
  timeout: 10,
  headers: spec.keepAlive ? {} : { connection: 'close' },
  setupClient,
});
process.stdout.write(JSON.stringify({
  requests: result.requests.total,
  durationSec: result.duration,
  bytes: result.throughput.total,
  latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
}) + '\n');
