import { assign, findExperiment, type ExperimentsFile } from '../core/experiments.js';
import {
  inActiveVersion,
  type ActiveVersion,
  type RecommendationStore,
  type ScoredItem,
  type ServedList,
} from '../core/store/types.js';
import { teamDraft, type TeamItem } from './interleave.js';
import type { ListCache } from './list-cache.js';
import type { LogSink } from './logs.js';
import type { ApiMetrics } from './metrics.js';
import type { RelatedResponseBody } from './schemas.js';

/**
 * The related-posts answer: experiment assignment, the list of the assigned algorithm(s) from the
 * tenant's active version, filtering, and the popular fallback when a list is missing, short, or
 * the store fails or is slow. It never throws for store trouble: the worst answer is a shorter
 * popular list with `fallback: true`.
 */
export interface RelatedRequest {
  tenantId: string;
  postId: string;
  userId: string;
  surface: string;
  limit: number;
  exclude: string[];
}

export interface RelatedDeps {
  store: RecommendationStore;
  /**
   * The tenant's active version pointer, cached for a few seconds by the server: one store read
   * per request instead of two (a new version is served within that time of its activation).
   */
  active: (tenantId: string) => Promise<ActiveVersion | null>;
  /** Lists served recently (a store read per request saved where a post is popular). */
  lists: ListCache;
  experiments: () => ExperimentsFile;
  hidden: (tenantId: string) => Promise<ReadonlySet<string>>;
  logs: LogSink;
  metrics: ApiMetrics;
  storeTimeoutMs: number;
}

class StoreTimeout extends Error {}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(`store read exceeded ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export class RelatedService {
  constructor(private readonly deps: RelatedDeps) {}

  /** A list of one algorithm from the active version; `popular` is the tenant's popular list. */
  private async read(
    tenantId: string,
    algorithm: string,
    postId: string,
  ): Promise<ServedList | null> {
    const { store, storeTimeoutMs, metrics, lists } = this.deps;
    try {
      const read = this.deps
        .active(tenantId)
        .then((active) =>
          inActiveVersion(active, (version) =>
            algorithm === 'popular'
              ? lists.read([tenantId, version, algorithm], () =>
                  store.getPopularAt(tenantId, version),
                )
              : lists.read([tenantId, version, algorithm, postId], () =>
                  store.getListAt(tenantId, version, algorithm, postId),
                ),
          ),
        );
      return await withTimeout(read, storeTimeoutMs);
    } catch (error) {
      metrics.storeErrors.inc({
        tenant: metrics.tenant(tenantId),
        kind: error instanceof StoreTimeout ? 'timeout' : 'error',
      });
      return null;
    }
  }

  async related(req: RelatedRequest, requestId: string): Promise<RelatedResponseBody> {
    const started = performance.now();
    const file = this.deps.experiments();
    const experiment = findExperiment(file, req.tenantId, req.surface);
    const assignment = experiment
      ? assign(experiment, file.defaultAlgorithm, req.userId)
      : undefined;
    const algorithms = assignment?.algorithms ?? [file.defaultAlgorithm];

    const [lists, hidden] = await Promise.all([
      Promise.all(algorithms.map((a) => this.read(req.tenantId, a, req.postId))),
      this.deps.hidden(req.tenantId).catch(() => new Set<string>()),
    ]);
    const blocked = new Set([req.postId, ...req.exclude]);
    const keep = (items: ScoredItem[]) =>
      items.filter((i) => !blocked.has(i.postId) && !hidden.has(i.postId));

    let items: (ScoredItem | TeamItem)[];
    if (experiment?.type === 'interleaving' && !assignment?.holdout) {
      const [a, b] = experiment.variants;
      items = teamDraft(
        { team: a!.name, items: keep(lists[0]?.items ?? []) },
        { team: b!.name, items: keep(lists[1]?.items ?? []) },
        req.limit,
        requestId,
      );
    } else {
      items = keep(lists[0]?.items ?? []).slice(0, req.limit);
    }
    let version = lists.find((l) => l)?.version ?? null;

    const fallback =
      items.length < req.limit &&
      !(algorithms.length === 1 && algorithms[0] === 'popular' && lists[0]);
    if (fallback) {
      const popular = await this.read(req.tenantId, 'popular', req.postId);
      const shown = new Set(items.map((i) => i.postId));
      items = [...items, ...keep(popular?.items ?? []).filter((i) => !shown.has(i.postId))].slice(
        0,
        req.limit,
      );
      version ??= popular?.version ?? null;
      this.deps.metrics.fallbacks.inc({ tenant: this.deps.metrics.tenant(req.tenantId) });
    }

    const response: RelatedResponseBody = {
      requestId,
      tenantId: req.tenantId,
      postId: req.postId,
      items: items.map((i, rank) =>
        'team' in i
          ? { postId: i.postId, rank: rank + 1, score: i.score, team: i.team }
          : { postId: i.postId, rank: rank + 1, score: i.score },
      ),
      algorithm: algorithms.join('+'),
      version,
      experiment: experiment?.id ?? null,
      variant: assignment?.variant ?? null,
      fallback,
    };
    this.logExposure(req, response, performance.now() - started);
    return response;
  }

  /**
   * Records are object literals, not spreads of a shared part: V8 adds the properties after a
   * spread (`{ ...common, more }`) on a slow path, several microseconds per request here.
   */
  private logExposure(req: RelatedRequest, res: RelatedResponseBody, latencyMs: number): void {
    const ts = new Date().toISOString();
    const { requestId, experiment, variant } = res;
    const { tenantId, surface, userId } = req;
    if (experiment)
      this.deps.logs.write('assignment', {
        requestId,
        tenantId,
        surface,
        userId,
        ts,
        experiment,
        variant,
      });
    this.deps.logs.write('exposure', {
      requestId,
      tenantId,
      surface,
      userId,
      ts,
      postId: req.postId,
      experiment,
      variant,
      algorithm: res.algorithm,
      version: res.version,
      items: res.items,
      latencyMs: Math.round(latencyMs * 1000) / 1000,
      fallback: res.fallback,
    });
  }
}
