import { Hono, type Context } from 'hono';
import { LocalArtifactStore, readJsonLines, runArtifact } from '../core/artifacts.js';
import type { Config } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import {
  appliesTo,
  isRunning,
  missingAlgorithms,
  type ExperimentsFile,
} from '../core/experiments.js';
import { ID_RULE, idSchema } from '../core/ids.js';
import { buildReport, openResultsSource, type ResultsReport } from '../core/results.js';
import type { RecommendationStore } from '../core/store/types.js';
import type { ApiKeys } from './auth.js';
import { problemBody } from './schemas.js';
import { VIEWER_HEADERS, VIEWER_HTML } from './viewer-page.js';

/**
 * The result viewer: a page where a team picks a tenant and a post and sees every algorithm's
 * list of the active version side by side, with titles and the items several lists share, and
 * the experiments of that tenant with their current results. Served by the API process under
 * /admin, its data behind a key for every tenant (`osusume api-key --all-tenants`).
 *
 * Titles come from the active version's snapshot artifact (runs/<version>/<tenant>/snapshot.jsonl,
 * the posts the lists were computed from): the serving store keeps ids and scores only.
 */
export interface ViewerDeps {
  store: RecommendationStore;
  keys: () => ApiKeys;
  experiments: () => ExperimentsFile;
  config: Pick<Config, 'artifactsDir' | 'warehouse'> & { api: Pick<Config['api'], 'logsDir'> };
}

/** Snapshots kept in memory (tenant and version): a few tenants are looked at at a time. */
const TITLE_CACHE = 8;
const RESULTS_TTL_MS = 30_000;
const SEARCH_LIMIT = 50;

const noActiveVersion = (tenantId: string) =>
  `Tenant "${tenantId}" has no active version: no batch has served it yet (osusume batch --tenant ${tenantId}).`;

interface Titles {
  byId: Map<string, string>;
}

export function viewerRoutes(deps: ViewerDeps): Hono {
  const app = new Hono();
  const artifacts = new LocalArtifactStore(deps.config.artifactsDir);
  const titles = new Map<string, Promise<Titles>>();
  let results: { at: number; value: Promise<ResultsReport | string> } | undefined;

  const titlesOf = (tenantId: string, version: string): Promise<Titles> => {
    const key = `${tenantId}\u0000${version}`;
    let hit = titles.get(key);
    if (!hit) {
      hit = readJsonLines<{ postId: string; title?: string }>(
        artifacts,
        runArtifact(artifacts, version, tenantId, 'snapshot.jsonl'),
      )
        .then((posts) => ({ byId: new Map(posts.map((p) => [p.postId, p.title ?? ''])) }))
        .catch(() => ({ byId: new Map<string, string>() }));
      titles.set(key, hit);
      if (titles.size > TITLE_CACHE) titles.delete(titles.keys().next().value!);
    }
    return hit;
  };

  const currentResults = (): Promise<ResultsReport | string> => {
    if (!results || performance.now() - results.at > RESULTS_TTL_MS) {
      const source = openResultsSource(deps.config.warehouse, deps.config.api.logsDir);
      results = {
        at: performance.now(),
        value: source
          .read({})
          // Sequential: the page is for looking at running tests, as often as one likes.
          .then((rows) => buildReport(rows, {}, deps.experiments(), { method: 'sequential' }))
          .catch((error: unknown) => errorMessage(error))
          .finally(() => source.close()),
      };
    }
    return results.value;
  };

  const problem = (c: Context, status: 400 | 401 | 403 | 404, detail: string) =>
    c.json(problemBody(c.req.path, status, 'Viewer', detail), status, {
      'content-type': 'application/problem+json',
    });

  app.get('/viewer', (c) => c.html(VIEWER_HTML, 200, VIEWER_HEADERS));

  app.use('/api/*', async (c, next) => {
    const auth = deps.keys().authorize(c.req.header('authorization'), '*');
    if (!auth.ok)
      return problem(
        c,
        auth.status,
        auth.status === 401
          ? auth.detail
          : 'The viewer needs a key for every tenant: osusume api-key --id viewer --all-tenants.',
      );
    await next();
  });

  app.get('/api/tenants', async (c) => {
    const tenants = (await deps.store.listTenants()).sort();
    const out = [];
    for (const tenantId of tenants) {
      const active = await deps.store.getActive(tenantId);
      if (active) out.push({ tenantId, version: active.version, algorithms: active.algorithms });
    }
    return c.json(out);
  });

  const ids = (c: Context) => {
    const tenant = idSchema.safeParse(c.req.param('tenantId'));
    const post =
      c.req.param('postId') === undefined ? null : idSchema.safeParse(c.req.param('postId'));
    return {
      tenantId: tenant.success ? tenant.data : null,
      postId: post?.success ? post.data : null,
      postGiven: post !== null,
    };
  };

  app.get('/api/tenants/:tenantId/posts', async (c) => {
    const { tenantId } = ids(c);
    if (!tenantId) return problem(c, 400, `Invalid tenant id: ids are ${ID_RULE}.`);
    const active = await deps.store.getActive(tenantId);
    if (!active) return problem(c, 404, noActiveVersion(tenantId));
    const q = (c.req.query('q') ?? '').toLowerCase().slice(0, 200);
    const { byId } = await titlesOf(tenantId, active.version);
    const found: { postId: string; title: string }[] = [];
    for (const [postId, title] of byId) {
      if (found.length >= SEARCH_LIMIT) break;
      if (!q || title.toLowerCase().includes(q) || postId.toLowerCase().includes(q))
        found.push({ postId, title });
    }
    return c.json(found);
  });

  app.get('/api/tenants/:tenantId/posts/:postId', async (c) => {
    const { tenantId, postId } = ids(c);
    if (!tenantId || !postId)
      return problem(c, 400, `Invalid tenant or post id: ids are ${ID_RULE}.`);
    const active = await deps.store.getActive(tenantId);
    if (!active) return problem(c, 404, noActiveVersion(tenantId));
    const { byId } = await titlesOf(tenantId, active.version);
    const lists = [];
    for (const algorithm of active.algorithms) {
      const items =
        algorithm === 'popular'
          ? await deps.store.getPopularAt(tenantId, active.version)
          : await deps.store.getListAt(tenantId, active.version, algorithm, postId);
      lists.push({
        algorithm,
        items: (items ?? []).filter((i) => i.postId !== postId).slice(0, 10),
      });
    }
    const seen = new Map<string, number>();
    for (const l of lists)
      for (const i of l.items) seen.set(i.postId, (seen.get(i.postId) ?? 0) + 1);
    const file = deps.experiments();
    const report = await currentResults();
    const experiments = file.experiments
      .filter((e) => appliesTo(e, tenantId) && isRunning(e))
      .map((e) => ({
        id: e.id,
        surface: e.surface,
        type: e.type,
        variants: e.variants.map((v) => ({ name: v.name, algorithm: v.algorithm })),
        missing: missingAlgorithms(e, file.defaultAlgorithm, active),
        results:
          typeof report === 'string'
            ? null
            : (report.experiments.find((r) => r.experiment === e.id) ?? null),
        resultsNote: typeof report === 'string' ? report : undefined,
        resultsMethod: typeof report === 'string' ? undefined : report.method,
      }));
    return c.json({
      tenantId,
      version: active.version,
      post: { postId, title: byId.get(postId) ?? null },
      lists: lists.map((l) => ({
        algorithm: l.algorithm,
        items: l.items.map((i) => ({
          postId: i.postId,
          title: byId.get(i.postId) ?? null,
          score: i.score,
          shared: (seen.get(i.postId) ?? 0) > 1,
        })),
      })),
      experiments,
    });
  });
  return app;
}
