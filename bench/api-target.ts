/**
 * The servers bench/api.ts loads, each in its own process:
 *   tsx bench/api-target.ts ceiling PORT        a bare Hono handler returning a constant (the ceiling)
 *   tsx bench/api-target.ts related PORT DIR    the real API on the LMDB store seeded in DIR
 * Prints "ready" once listening.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { startServer } from '../api/server.js';
import { parseConfig } from '../core/config.js';

const [mode, port, dir] = process.argv.slice(2);

if (mode === 'ceiling') {
  const body = {
    requestId: 'x',
    items: Array.from({ length: 10 }, (_, i) => ({ postId: `p${i}`, rank: i + 1, score: 0.5 })),
  };
  const app = new Hono();
  app.get('*', (c) => c.json(body));
  serve({ fetch: app.fetch, port: Number(port), hostname: '127.0.0.1' }, () =>
    console.log('ready'),
  );
} else {
  const config = parseConfig(
    {
      store: { kind: 'lmdb', path: 'store.lmdb' },
      experimentsFile: 'experiments.yaml',
      api: { keysFile: 'keys.json', logsDir: 'logs', tenantMetrics: true },
    },
    dir!,
  );
  await startServer(config, Number(port));
  console.log('ready');
}

// Exit normally on a signal, so that profilers (--cpu-prof) can write their output.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
