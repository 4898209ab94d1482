/**
 * The API server: `osusume api [--port N]` (else PORT, else api.port; config as everywhere).
 * SIGTERM/SIGINT stop accepting requests, flush the logs and close the store.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type Server,
  type RequestListener,
  type ServerOptions as HttpServerOptions,
} from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { loadConfig, type Config } from '../core/config.js';
import { loadExperiments } from '../core/experiments.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { log } from '../core/log.js';
import { openStore } from '../core/store/index.js';
import type { RecommendationStore } from '../core/store/types.js';
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
  /** With api.metricsPort: where /metrics is served. */
  metricsUrl?: string;
  logs: LogSink;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Test hook: predictable request ids. */
  requestId?: () => string;
  /**
   * The caller has told the user already which experiments are not ready (the demo prints it):
   * the server then logs their readiness when the experiments file changes, not at start.
   */
  readinessReported?: boolean;
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

/**
 * Resolves once `server` listens on `port`. A port in use (or refused) rejects with what to do
 * (`remedy`): unhandled, Node throws it from the 'error' event as a crash with a stack trace.
 */
function listening(server: Server, port: number, what: string, remedy: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(
          error.code === 'EADDRINUSE'
            ? `Port ${port}${what} is in use: stop what listens there, or ${remedy}.`
            : `Cannot listen on port ${port}${what}: ${error.message}; ${remedy}.`,
          { cause: error },
        ),
      );
    server.once('error', failed);
    server.once('listening', () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/**
 * The app on `port` (0: any free port), with or without the fast path in front. Sockets are
 * bounded in time (api.timeouts): a client trickling a body or idling cannot hold one for long.
 */
async function serveApi(deps: AppDeps, port: number, fastPath: boolean): Promise<ServerType> {
  const app = createApp(deps);
  const { requestSeconds, headersSeconds, keepAliveSeconds } = deps.config.timeouts;
  const http = serve({
    fetch: app.fetch,
    port,
    hostname: '0.0.0.0',
    // How often Node checks request and header deadlines (its default is 30 s).
    serverOptions: { connectionsCheckingInterval: 1000 },
    ...(fastPath && { createServer: withFastPath(relatedFastPath(deps)) }),
  }) as Server;
  await listening(http, port, '', 'pass --port N or set PORT to a free port');
  http.requestTimeout = requestSeconds * 1000;
  http.headersTimeout = headersSeconds * 1000;
  http.keepAliveTimeout = keepAliveSeconds * 1000;
  return http;
}

/** /metrics alone, without a key, on its own port (api.metricsPort): for a scraper inside the network. */
async function serveMetrics(metrics: ApiMetrics, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('Only GET /metrics is served here.\n');
      return;
    }
    metrics.scrape().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => {
        log.error('metrics scrape failed', { error: errorMessage(error) });
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end("Metrics failed; the API's log has the cause.\n");
      },
    );
  });
  server.listen(port, '0.0.0.0');
  await listening(
    server,
    port,
    ' (api.metricsPort, for /metrics)',
    'set api.metricsPort to a free port',
  );
  return server;
}

function urlOf(server: ServerType | Server, port: number): string {
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
}

function closeServer(server: ServerType | Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * What the app needs, over one open store: the reloading experiments and keys, the per-tenant
 * caches, the log sink, the metrics. Each thing that must be closed is pushed on `opened`.
 */
function apiDeps(
  config: Config,
  store: RecommendationStore,
  options: ServerOptions,
  opened: (() => unknown)[],
): AppDeps {
  const interval = config.api.reloadSeconds * 1000;
  const readiness = new ReadinessWarnings(store);
  // Called on the first load, then on each change; the caller may have reported the first.
  let loads = 0;
  const experiments = reloading(config.experimentsFile, loadExperiments, interval, (file) => {
    if (loads++ > 0 || !options.readinessReported) readiness.check(file);
  });
  opened.push(experiments.stop);
  const keys = reloading(config.api.keysFile, (f) => ApiKeys.fromFile(f), interval);
  opened.push(keys.stop);
  const metrics = new ApiMetrics(config.api.tenantMetrics, config.api.maxTenantLabels);
  const hidden = new TtlCache(
    interval,
    async (tenantId) => new Set(await store.getHidden(tenantId)),
    config.api.tenantCacheSize,
  );
  const active = new TtlCache(
    interval,
    async (tenantId) => {
      const pointer = await store.getActive(tenantId);
      if (pointer) metrics.servedTenant(tenantId);
      return pointer;
    },
    config.api.tenantCacheSize,
  );
  const logs =
    config.api.logSink === 'stdout' ? new StdoutLogSink() : new FileLogSink(config.api.logsDir);
  opened.push(() => logs.flush());
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
  return {
    related,
    store,
    keys: keys.get,
    logs,
    metrics,
    config: config.api,
    hiddenPosts: (t) => hidden.get(t),
    // This process sees the change at once; the others within api.reloadSeconds.
    onHiddenChanged: (t, postIds, isHidden) => {
      const cached = hidden.peek(t) as Set<string> | undefined;
      if (!cached) return hidden.forget(t);
      for (const p of postIds) {
        if (isHidden) cached.add(p);
        else cached.delete(p);
      }
    },
    requestId: options.requestId ?? randomUUID,
    viewer: { store, keys: keys.get, experiments: experiments.get, config },
  };
}

export async function startServer(
  config: Config,
  port = config.api.port,
  options: ServerOptions = {},
): Promise<RunningServer> {
  // What is open so far, closed last-opened first: by close(), or when the start fails (a port in
  // use, a broken key file), so that a caller in the same process is not left holding the store.
  const opened: (() => unknown)[] = [];
  const closeOpened = async () => {
    for (let close = opened.pop(); close; close = opened.pop()) await close();
  };
  try {
    const store = openStore(config.store);
    opened.push(() => store.close());
    const deps = apiDeps(config, store, options, opened);
    const server = await serveApi(deps, port, config.api.fastPath);
    opened.push(() => closeServer(server));
    const metricsServer =
      config.api.metricsPort === undefined
        ? undefined
        : await serveMetrics(deps.metrics, config.api.metricsPort);
    if (metricsServer) opened.push(() => closeServer(metricsServer));
    return {
      url: urlOf(server, port),
      metricsUrl: metricsServer && urlOf(metricsServer, config.api.metricsPort!),
      logs: deps.logs,
      close: closeOpened,
    };
  } catch (error) {
    await closeOpened();
    throw error;
  }
}

export async function apiCommand(options: { port?: number }): Promise<void> {
  const config = loadConfig();
  const server = await startServer(config, options.port ?? config.api.port);
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
