import { randomUUID } from 'node:crypto';
import { OpenAPIHono, createRoute, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Config } from '../core/config.js';
import { log } from '../core/log.js';
import type { RecommendationStore } from '../core/store/types.js';
import type { ApiKeys } from './auth.js';
import type { LogSink } from './logs.js';
import type { ApiMetrics } from './metrics.js';
import type { RelatedService } from './related.js';
import {
  HiddenBody,
  HiddenResponse,
  OutcomeBody,
  OutcomeResponse,
  Problem,
  RelatedParams,
  RelatedQuery,
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
  /** Forget cached hidden posts of a tenant after it changed them. */
  onHiddenChanged: (tenantId: string) => void;
}

type Env = { Variables: { requestId: string; tenantId?: string; variant?: string } };

/** RFC 9457 problem details; never a stack trace. */
function problem(
  c: Context,
  status: number,
  title: string,
  detail?: string,
  errors?: ProblemBody['errors'],
) {
  const body: ProblemBody = {
    type: 'about:blank',
    title,
    status,
    detail,
    instance: c.req.path,
    errors,
  };
  // Routes declare their problems as 400; the status sent is the one given.
  return c.json(body, status as 400, { 'content-type': 'application/problem+json' });
}

/** Event ids seen recently: a re-sent batch is accepted and not logged twice. */
class RecentIds {
  private readonly ids = new Map<string, true>();
  constructor(private readonly capacity: number) {}
  /** True when the id is new. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.set(id, true);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.keys().next().value!);
    return true;
  }
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

const relatedRoute = createRoute({
  method: 'get',
  path: '/v1/tenants/{tenantId}/posts/{postId}/related',
  summary: 'Related posts for a post, for one user',
  security: [{ apiKey: [] }],
  request: { params: RelatedParams, query: RelatedQuery },
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
  },
});

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const errors = (result.error as z.ZodError).issues.map((i) => ({
        where: i.path.join('.') || '(request)',
        message: i.message,
      }));
      return problem(c, 400, 'Invalid request', 'Fix the parameters listed in errors.', errors);
    },
  });
  const recentEvents = new RecentIds(200_000);

  app.use('*', async (c, next) => {
    const started = performance.now();
    c.set('requestId', randomUUID());
    await next();
    const { metrics } = deps;
    metrics.requests.observe(
      {
        route: c.req.routePath,
        status: String(c.res.status),
        tenant: metrics.tenant(c.get('tenantId')),
        variant: c.get('variant') ?? 'none',
      },
      (performance.now() - started) / 1000,
    );
  });

  // Only requests with a body: touching the body of a GET would build a full Request object.
  app.on(
    'POST',
    '/v1/tenants/:tenantId/*',
    bodyLimit({
      maxSize: 256 * 1024,
      onError: (c) =>
        problem(c, 413, 'Request body too large', 'Send at most 256 KiB per request.'),
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

  app.openapi(relatedRoute, async (c) => {
    const { tenantId, postId } = c.req.valid('param');
    const query = c.req.valid('query');
    const limit = query.limit ?? deps.config.defaultLimit;
    if (limit > deps.config.maxLimit) {
      return problem(c, 400, 'Invalid request', `limit must be at most ${deps.config.maxLimit}.`, [
        { where: 'limit', message: `at most ${deps.config.maxLimit}` },
      ]);
    }
    const body = await deps.related.related(
      {
        tenantId,
        postId,
        userId: query.userId,
        surface: query.surface,
        limit,
        exclude: query.exclude,
      },
      c.get('requestId'),
    );
    c.set('variant', body.variant ?? 'none');
    return c.json(body, 200);
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
    await deps.store.setHidden(tenantId, postIds, hidden);
    deps.onHiddenChanged(tenantId);
    return c.json({ updated: postIds.length }, 200);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await deps.store.listVersions('__readiness_probe__');
      return c.json({ status: 'ready', apiKeys: deps.keys().size });
    } catch (error) {
      return problem(c, 503, 'Not ready', `The store does not answer: ${(error as Error).message}`);
    }
  });
  app.get('/metrics', async (c) =>
    c.text(await deps.metrics.registry.metrics(), 200, {
      'content-type': deps.metrics.registry.contentType,
    }),
  );

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

  app.notFound((c) =>
    problem(c, 404, 'Not found', `No route for ${c.req.method} ${c.req.path}; see /openapi.json.`),
  );
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status < 500)
      return problem(c, error.status, 'Invalid request', error.message);
    log.error('request failed', {
      path: c.req.path,
      requestId: c.get('requestId'),
      error: error.message,
    });
    return problem(
      c,
      500,
      'Internal error',
      `Something failed on our side; request ${c.get('requestId')} is logged.`,
    );
  });
  return app;
}

export type OsusumeApp = ReturnType<typeof createApp>;
