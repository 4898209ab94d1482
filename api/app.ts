import { OpenAPIHono, createRoute, type z } from '@hono/zod-openapi';
import { docsRoutes } from './docs.js';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Config } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import { log } from '../core/log.js';
import { unservedPosts, type RecommendationStore } from '../core/store/types.js';
import type { ApiKeys } from './auth.js';
import type { LogSink } from './logs.js';
import type { ApiMetrics } from './metrics.js';
import { RECENT_EVENT_IDS, RecentIds } from './recent-ids.js';
import { withTimeout, type RelatedService } from './related.js';
import { viewerRoutes, type ViewerDeps } from './viewer.js';
import { INVALID_PARAMETERS, issueList, parseRelatedRequest } from './related-request.js';
import {
  HiddenBody,
  HiddenResponse,
  OutcomeBody,
  OutcomeResponse,
  Problem,
  problemBody,
  RelatedParams,
  relatedQuery,
  RelatedResponse,
  TenantParams,
  type ProblemBody,
} from './schemas.js';

export interface AppDeps {
  related: RelatedService;
  store: RecommendationStore;
  keys: () => ApiKeys;
  logs: LogSink;
  metrics: ApiMetrics;
  config: Config['api'];
  /** The tenant's hidden posts as this process holds them (re-read every api.reloadSeconds). */
  hiddenPosts: (tenantId: string) => Promise<ReadonlySet<string>>;
  /** Applies a change of the tenant's hidden posts to what this process holds. */
  onHiddenChanged: (tenantId: string, postIds: string[], hidden: boolean) => void;
  /** A new request id (random UUIDs; a test may make them predictable). */
  requestId: () => string;
  /** The result viewer at /admin/viewer (api/viewer.ts); off when absent. */
  viewer?: ViewerDeps;
}

/**
 * How long /readyz waits for the store: less than the startup probe's timeout (2 s,
 * infra/components/api-service.ts), so that the probe gets the 503 and the log its cause at once.
 * An unreachable Firestore is otherwise retried by its client for a minute before it fails.
 */
const READINESS_TIMEOUT_MS = 1500;

type Env = { Variables: { requestId: string; tenantId?: string; variant?: string } };

function problem(
  c: Context,
  status: number,
  title: string,
  detail?: string,
  errors?: ProblemBody['errors'],
) {
  // Routes declare their problems as 400; the status sent is the one given.
  return c.json(problemBody(c.req.path, status, title, detail, errors), status as 400, {
    'content-type': 'application/problem+json',
  });
}

/**
 * What to do about the client errors that Hono and its validators throw, whose messages only
 * name the fault ("Malformed JSON in request body", "Unsupported Media Type").
 */
const REMEDIES: Record<number, string> = {
  415: 'send the body as JSON, with Content-Type: application/json',
};

/**
 * What an exception thrown while answering becomes (app.onError, and the fast path's catch):
 * a client error it names, or a logged 500 that shows no stack trace.
 */
export function failure(
  error: Error,
  path: string,
  requestId: string,
): { status: number; title: string; detail: string } {
  if (error instanceof HTTPException && error.status < 500) {
    const remedy = REMEDIES[error.status] ?? 'see /docs or /openapi.json for what it should hold';
    return {
      status: error.status,
      title: 'Invalid request',
      detail: `${error.message}: ${remedy}.`,
    };
  }
  log.error('request failed', { path, requestId, error: error.message });
  return {
    status: 500,
    title: 'Internal error',
    detail: `Something failed on our side; request ${requestId} is logged.`,
  };
}

const problems = {
  400: {
    description: 'Invalid parameters',
    content: { 'application/problem+json': { schema: Problem } },
  },
  401: {
    description: 'Missing or invalid API key',
    content: { 'application/problem+json': { schema: Problem } },
  },
  403: {
    description: 'The key may not access this tenant',
    content: { 'application/problem+json': { schema: Problem } },
  },
};

/** The related endpoint's route, in Hono's syntax: also its `route` label in metrics. */
export const RELATED_PATH = '/v1/tenants/:tenantId/posts/:postId/related';

/** Published with the deployment's maxLimit as the maximum of `limit` (the parser enforces it). */
const relatedRoute = (maxLimit: number) =>
  createRoute({
    method: 'get',
    path: '/v1/tenants/{tenantId}/posts/{postId}/related',
    summary: 'Related posts for a post, for one user',
    security: [{ apiKey: [] }],
    request: { params: RelatedParams, query: relatedQuery(maxLimit) },
    responses: {
      200: {
        description: 'Related posts',
        content: { 'application/json': { schema: RelatedResponse } },
      },
      ...problems,
    },
  });

const eventsRoute = createRoute({
  method: 'post',
  path: '/v1/tenants/{tenantId}/events',
  summary: 'Outcome events (clicks, likes...) for served lists; idempotent by eventId',
  security: [{ apiKey: [] }],
  request: {
    params: TenantParams,
    body: { content: { 'application/json': { schema: OutcomeBody } }, required: true },
  },
  responses: {
    200: { description: 'Accepted', content: { 'application/json': { schema: OutcomeResponse } } },
    ...problems,
  },
});

const hiddenRoute = createRoute({
  method: 'post',
  path: '/v1/tenants/{tenantId}/hidden',
  summary: 'Hide (or unhide) posts at once, e.g. when they are deleted',
  security: [{ apiKey: [] }],
  request: {
    params: TenantParams,
    body: { content: { 'application/json': { schema: HiddenBody } }, required: true },
  },
  responses: {
    200: { description: 'Updated', content: { 'application/json': { schema: HiddenResponse } } },
    ...problems,
    404: {
      description: 'Some posts are in no list of the tenant: nothing was changed',
      content: { 'application/problem+json': { schema: Problem } },
    },
    409: {
      description: 'The tenant would exceed api.maxHiddenPerTenant: nothing was changed',
      content: { 'application/problem+json': { schema: Problem } },
    },
  },
});

/**
 * Why hiding `postIds` is refused, or undefined: hidden posts are capped per tenant (every API
 * process holds them and re-reads them), and only posts the active version serves can be hidden
 * (any other id would only take room: it is in no list).
 */
async function refuseHiding(
  deps: AppDeps,
  tenantId: string,
  postIds: string[],
): Promise<
  { status: 404 | 409; title: string; detail: string; errors?: ProblemBody['errors'] } | undefined
> {
  const current = await deps.hiddenPosts(tenantId);
  const adding = [...new Set(postIds)].filter((p) => !current.has(p));
  const max = deps.config.maxHiddenPerTenant;
  if (current.size + adding.length > max)
    return {
      status: 409,
      title: 'Too many hidden posts',
      detail: `Tenant ${JSON.stringify(tenantId)} has ${current.size} hidden posts and may have at most ${max} (api.maxHiddenPerTenant): unhide some ({ hidden: false }); deleted posts are unhidden when the batch drops them.`,
    };
  const unknown = await unservedPosts(deps.store, tenantId, adding);
  if (unknown.length === 0) return undefined;
  const one = unknown.length === 1;
  return {
    status: 404,
    title: 'Unknown posts',
    detail: `${unknown.length} of these posts ${one ? 'is' : 'are'} not served for tenant ${JSON.stringify(tenantId)}: ${one ? 'it is' : 'they are'} in no list, so there is nothing to hide (a post the batch has not seen yet can be hidden after its next run). Nothing was changed.`,
    errors: unknown.slice(0, 10).map((p) => ({ where: 'postIds', message: `unknown post ${p}` })),
  };
}

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (result.success) return;
      return problem(
        c,
        400,
        'Invalid request',
        INVALID_PARAMETERS,
        issueList(result.error as z.ZodError),
      );
    },
  });
  const recentEvents = new RecentIds(RECENT_EVENT_IDS);

  app.use('*', async (c, next) => {
    const started = performance.now();
    c.set('requestId', deps.requestId());
    await next();
    deps.metrics.observeRequest(
      c.req.routePath,
      c.res.status,
      c.get('tenantId'),
      c.get('variant'),
      started,
    );
  });

  // Only requests with a body: touching the body of a GET would build a full Request object.
  app.on(
    'POST',
    '/v1/tenants/:tenantId/*',
    bodyLimit({
      maxSize: 256 * 1024,
      // The rest of the body is not read: the connection closes after the answer.
      onError: (c) => {
        c.header('connection', 'close');
        return problem(c, 413, 'Request body too large', 'Send at most 256 KiB per request.');
      },
    }),
  );
  app.use('/v1/tenants/:tenantId/*', async (c, next) => {
    const tenantId = c.req.param('tenantId');
    const auth = deps.keys().authorize(c.req.header('authorization'), tenantId);
    if (!auth.ok)
      return problem(
        c,
        auth.status,
        auth.status === 401 ? 'Unauthorized' : 'Forbidden',
        auth.detail,
      );
    c.set('tenantId', tenantId);
    await next();
  });

  // Documented through the OpenAPI route, validated by the shared parser (the fast path's too).
  app.openAPIRegistry.registerPath(relatedRoute(deps.config.maxLimit));
  app.get(RELATED_PATH, async (c) => {
    const parsed = parseRelatedRequest(c.req.param(), c.req.queries(), deps.config);
    if (!parsed.ok) return problem(c, 400, 'Invalid request', parsed.detail, parsed.errors);
    const answer = await deps.related.related(parsed.request, c.get('requestId'));
    c.set('variant', answer.variant ?? 'none');
    return c.body(answer.json, 200, { 'Content-Type': 'application/json' });
  });

  app.openapi(eventsRoute, async (c) => {
    const { tenantId } = c.req.valid('param');
    const receivedAt = new Date().toISOString();
    let accepted = 0;
    for (const e of c.req.valid('json').events) {
      if (!recentEvents.add(`${tenantId}\u0000${e.eventId}`)) continue;
      accepted += 1;
      deps.logs.write('outcome', { ...e, tenantId, ts: e.ts ?? receivedAt, receivedAt });
    }
    const total = c.req.valid('json').events.length;
    return c.json({ accepted, duplicates: total - accepted }, 200);
  });

  app.openapi(hiddenRoute, async (c) => {
    const { tenantId } = c.req.valid('param');
    const { postIds, hidden } = c.req.valid('json');
    if (hidden) {
      const refused = await refuseHiding(deps, tenantId, postIds);
      if (refused) return problem(c, refused.status, refused.title, refused.detail, refused.errors);
    }
    await deps.store.setHidden(tenantId, postIds, hidden);
    deps.onHiddenChanged(tenantId, postIds, hidden);
    return c.json({ updated: postIds.length }, 200);
  });

  if (deps.viewer) app.route('/admin', viewerRoutes(deps.viewer));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await withTimeout(deps.store.listVersions('__readiness_probe__'), READINESS_TIMEOUT_MS);
      // Only ready or not: the probe needs no key, so it tells nothing of the keys or tenants.
      return c.json({ status: 'ready' });
    } catch (error) {
      // The probe needs no key: the cause goes to the log, not to whoever asks.
      log.error('readiness probe: the store does not answer', { error: errorMessage(error) });
      return problem(
        c,
        503,
        'Not ready',
        "The store does not answer; the API's log has the cause.",
      );
    }
  });
  // With api.metricsPort, /metrics is served there (server.ts) and not here.
  if (deps.config.metricsPort === undefined)
    app.get('/metrics', async (c) => {
      const auth = deps.keys().authorize(c.req.header('authorization'), '*');
      if (!auth.ok)
        return problem(
          c,
          auth.status,
          auth.status === 401 ? 'Unauthorized' : 'Forbidden',
          `${auth.detail} Metrics need a key for all tenants (osusume api-key --id ops --all-tenants), or set api.metricsPort.`,
        );
      return c.text(await deps.metrics.scrape(), 200, {
        'content-type': deps.metrics.registry.contentType,
      });
    });

  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'osusume API key',
  });
  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: {
      title: 'osusume',
      version: '1',
      description: 'Related posts per tenant, with A/B tests and interleaving.',
    },
  });

  app.route('/docs', docsRoutes());

  app.notFound((c) =>
    problem(
      c,
      404,
      'Not found',
      `No route for ${c.req.method} ${c.req.path}; see /docs or /openapi.json.`,
    ),
  );
  app.onError((error, c) => {
    const failed = failure(error, c.req.path, c.get('requestId'));
    return problem(c, failed.status, failed.title, failed.detail);
  });
  return app;
}
