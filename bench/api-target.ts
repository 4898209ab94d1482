/**
 * The servers bench/api.ts loads, each in its own process:
 *   tsx bench/api-target.ts ceiling PORT [US]   a bare Hono handler returning a constant (the ceiling),
 *                                               after US microseconds of busy work when given
 *   tsx bench/api-target.ts related PORT DIR [hono]   the real API on the LMDB store seeded in
 *                                               DIR; with "hono", without the fast path
 * PORT 0 takes a free port. Prints "ready PORT" once listening.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { startServer } from '../api/server.js';
import { parseConfig } from '../core/config.js';

const [mode, port, arg, variant] = process.argv.slice(2);

/** Spins for `us` microseconds: a stand-in for a handler's own synchronous work. */
function work(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

if (mode === 'ceiling') {
  const workUs = Number(arg ?? 0);
  const body = {
    requestId: 'x',
    items: Array.from({ length: 10 }, (_, i) => ({ postId: `p${i}`, rank: i + 1, score: 0.5 })),
  };
  const app = new Hono();
  app.get('*', (c) => {
    if (workUs > 0) work(workUs);
    return c.json(body);
  });
  serve({ fetch: app.fetch, port: Number(port), hostname: '127.0.0.1' }, (info) =>
    console.log(`ready ${info.port}`),
  );
} else {
  const config = parseConfig(
    {
      store: { kind: 'lmdb', path: 'store.lmdb' },
      experimentsFile: 'experiments.yaml',
      api: {
        keysFile: 'keys.json',
        logsDir: 'logs',
        tenantMetrics: true,
        fastPath: variant !== 'hono',
      },
    },
    arg!,
  );
  const server = await startServer(config, Number(port));
  console.log(`ready ${new URL(server.url).port}`);
}

// Exit normally on a signal, so that profilers (--cpu-prof) can write their output.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
