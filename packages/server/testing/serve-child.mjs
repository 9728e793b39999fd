// A server in its own process (so a test can give it its own fd limit): argv[2] is
// { root, ...options } as JSON. Prints {"port"} once listening; on SIGTERM stops and prints
// {"stats"} before exiting 0.
import { serveStatic } from '../dist/index.js';

const { root, ...options } = JSON.parse(process.argv[2]);
const engine = serveStatic(root, options);
const port = await engine.start();
process.stdout.write(JSON.stringify({ port }) + '\n');
process.once('SIGTERM', async () => {
  const stats = engine.stats();
  await engine.stop({ grace: 1000 });
  process.stdout.write(JSON.stringify({ stats }) + '\n');
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
