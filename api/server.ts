/**
 * The API server: `osusume api [--port N]` (else PORT, else api.port; config as everywhere).
 * SIGTERM/SIGINT stop accepting requests, flush the logs and close the store.
 */
import { serve, type ServerType } from '@hono/node-server';
import { loadConfig, type Config } from '../core/config.js';
import { loadExperiments } from '../core/experiments.js';
import { log } from '../core/log.js';
import { openStore } from '../core/store/index.js';
import { createApp } from './app.js';
import { ApiKeys } from './auth.js';
import { ListCache } from './list-cache.js';
import { FileLogSink, StdoutLogSink, type LogSink } from './logs.js';
import { ApiMetrics } from './metrics.js';
import { RelatedService } from './related.js';
import { reloading, TtlCache } from './reload.js';

export interface RunningServer {
  url: string;
  logs: LogSink;
  close(): Promise<void>;
}

export async function startServer(config: Config, port = config.api.port): Promise<RunningServer> {
  const store = openStore(config.store);
  const interval = config.api.reloadSeconds * 1000;
  const experiments = reloading(config.experimentsFile, loadExperiments, interval);
  const keys = reloading(config.api.keysFile, (f) => ApiKeys.fromFile(f), interval);
  const hidden = new TtlCache(
    interval,
    async (tenantId) => new Set(await store.getHidden(tenantId)),
  );
  const active = new TtlCache(interval, (tenantId) => store.getActive(tenantId));
  const logs =
    config.api.logSink === 'stdout' ? new StdoutLogSink() : new FileLogSink(config.api.logsDir);
  const metrics = new ApiMetrics(config.api.tenantMetrics);
  const related = new RelatedService({
    store,
    active: (t) => active.get(t),
    lists: new ListCache(config.api.listCacheSize),
    experiments: experiments.get,
    hidden: (t) => hidden.get(t),
    logs,
    metrics,
    storeTimeoutMs: config.api.storeTimeoutMs,
  });
  const app = createApp({
    related,
    store,
    keys: keys.get,
    logs,
    metrics,
    config: config.api,
    onHiddenChanged: (t) => hidden.forget(t),
  });

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: '0.0.0.0' }, () => resolve(s));
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  return {
    url,
    logs,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      experiments.stop();
      keys.stop();
      await logs.flush();
      await store.close();
    },
  };
}

export async function apiCommand(options: { port?: number }): Promise<void> {
  const config = loadConfig();
  const server = await startServer(
    config,
    options.port ?? Number(process.env.PORT ?? config.api.port),
  );
  log.info('api listening', {
    url: server.url,
    store: config.store.kind,
    experiments: config.experimentsFile,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info('api stopping', { signal });
      void server.close().then(() => process.exit(0));
    });
  }
}
