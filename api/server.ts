/**
 * The API server: `osusume api [--port N]` (else PORT, else api.port; config as everywhere).
 * SIGTERM/SIGINT stop accepting requests, flush the logs and close the store.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type RequestListener,
  type ServerOptions as HttpServerOptions,
} from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { loadConfig, type Config } from '../core/config.js';
import { loadExperiments } from '../core/experiments.js';
import { log } from '../core/log.js';
import { openStore } from '../core/store/index.js';
import { createApp, type AppDeps } from './app.js';
import { relatedFastPath, type FastPath } from './fast-path.js';
import { ApiKeys } from './auth.js';
import { ListCache } from './list-cache.js';
import { FileLogSink, StdoutLogSink, type LogSink } from './logs.js';
import { ApiMetrics } from './metrics.js';
import { RelatedService } from './related.js';
import { ReadinessWarnings } from './readiness.js';
import { reloading, TtlCache } from './reload.js';

export interface RunningServer {
  url: string;
  logs: LogSink;
  close(): Promise<void>;
}

/** Test hooks: predictable request ids. */
export interface ServerOptions {
  requestId?: () => string;
}

/**
 * Node's server with the related endpoint's fast path in front of Hono: a request the fast path
 * does not take goes to Hono untouched.
 */
function withFastPath(fast: FastPath): typeof createServer {
  return ((options: HttpServerOptions, hono: RequestListener) =>
    createServer(options, (req, res) => {
      if (!fast(req, res)) void hono(req, res);
    })) as typeof createServer;
}

/** The app on `port` (0: any free port), with or without the fast path in front. */
export function serveApi(deps: AppDeps, port: number, fastPath: boolean): Promise<ServerType> {
  const app = createApp(deps);
  return new Promise((resolve) => {
    const s = serve(
      {
        fetch: app.fetch,
        port,
        hostname: '0.0.0.0',
        ...(fastPath && { createServer: withFastPath(relatedFastPath(deps)) }),
      },
      () => resolve(s),
    );
  });
}

export async function startServer(
  config: Config,
  port = config.api.port,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const store = openStore(config.store);
  const interval = config.api.reloadSeconds * 1000;
  const readiness = new ReadinessWarnings(store);
  const experiments = reloading(config.experimentsFile, loadExperiments, interval, (file) =>
    readiness.check(file),
  );
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
    activeNow: (t) => active.peek(t),
    reloadActive: (t) => {
      active.forget(t);
      return active.get(t);
    },
    lists: new ListCache(config.api.listCacheSize),
    experiments: experiments.get,
    hidden: (t) => hidden.get(t),
    hiddenNow: (t) => hidden.peek(t),
    logs,
    metrics,
    storeTimeoutMs: config.api.storeTimeoutMs,
    onNotReady: (experiment, tenantId) => readiness.notReady(experiment, tenantId),
  });
  const deps: AppDeps = {
    related,
    store,
    keys: keys.get,
    logs,
    metrics,
    config: config.api,
    onHiddenChanged: (t) => hidden.forget(t),
    requestId: options.requestId ?? randomUUID,
  };
  const server = await serveApi(deps, port, config.api.fastPath);
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
