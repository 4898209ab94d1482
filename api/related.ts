import {
  assign,
  findExperiment,
  missingAlgorithms,
  notReadyReason,
  splitOf,
  type Assignment,
  type Experiment,
  type ExperimentsFile,
} from '../core/experiments.js';
import {
  inActiveVersion,
  type ActiveVersion,
  type RecommendationStore,
  type ScoredItem,
  type ServedList,
  type SyncListReads,
} from '../core/store/types.js';
import { teamDraft, type TeamItem } from './interleave.js';
import type { ListCache } from './list-cache.js';
import type { LogSink } from './logs.js';
import type { ApiMetrics } from './metrics.js';
import { assignmentJson, exposureJson, itemsJson, responseJson } from './related-json.js';

/**
 * The related-posts answer: experiment assignment, the list of each assigned algorithm (two when
 * interleaved) from the tenant's active version, filtering, and the popular fallback when a list is
 * missing, short, or the store fails or is slow. It never throws for store trouble: the worst
 * answer is a shorter popular list with `fallback: true`.
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
  /** The same pointer if it is cached and fresh, without waiting; undefined otherwise. */
  activeNow?: (tenantId: string) => ActiveVersion | null | undefined;
  /** The pointer read from the store now, replacing the cached one. */
  reloadActive: (tenantId: string) => Promise<ActiveVersion | null>;
  /** Lists served recently (a store read per request saved where a post is popular). */
  lists: ListCache;
  experiments: () => ExperimentsFile;
  hidden: (tenantId: string) => Promise<ReadonlySet<string>>;
  /** The same set if it is cached and fresh, without waiting; undefined otherwise. */
  hiddenNow?: (tenantId: string) => ReadonlySet<string> | undefined;
  logs: LogSink;
  metrics: ApiMetrics;
  storeTimeoutMs: number;
  /** Told when a request met an experiment the tenant is not ready for (the server warns once). */
  onNotReady?: (experiment: string, tenantId: string) => void;
}

/**
 * An answer: the response body as JSON text (a `RelatedResponseBody`), and its variant for the
 * metrics. Its exposure and assignment lines are already written.
 */
export interface RelatedAnswer {
  json: string;
  variant: string | null;
}

let lastMs = -1;
let lastIso = '';
/** The time as ISO 8601, formatted once per millisecond however many requests share it. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** What a request needs that is already at hand when it can be answered without waiting. */
export interface ReadsNow {
  active: ActiveVersion | null;
  hidden: ReadonlySet<string>;
  store: SyncListReads;
}

/** Who is in which experiment, and which algorithms their list comes from. */
interface Plan {
  experiment: Experiment | undefined;
  assignment: Assignment | undefined;
  algorithms: string[];
  /** The experiment the request met but is not enrolled in, its lists not being computed yet, and why. */
  notEnrolled?: { experiment: string; reason: string };
}

/** What a request does not show: the post itself, the posts it excludes, the tenant's hidden posts. */
interface NotShown {
  postId: string;
  excluded: ReadonlySet<string> | undefined;
  hidden: ReadonlySet<string>;
}

/**
 * The items that are shown, up to `limit`, in one pass. A function of the module rather than a
 * closure made per request: tsx (esbuild's keepNames) names every named closure with
 * Object.defineProperty, which cost about 3 % of a request's CPU (`npm run bench:api-profile`).
 */
function keepShown(items: ScoredItem[], { postId, excluded, hidden }: NotShown, limit = Infinity) {
  const kept: ScoredItem[] = [];
  for (let i = 0; i < items.length && kept.length < limit; i++) {
    const item = items[i]!;
    if (item.postId !== postId && !excluded?.has(item.postId) && !hidden.has(item.postId))
      kept.push(item);
  }
  return kept;
}

/** The list before the popular fallback: kept items, and whether the fallback must fill it. */
interface Draft {
  notShown: NotShown;
  items: (ScoredItem | TeamItem)[];
  version: string | null;
  fallback: boolean;
}

class StoreTimeout extends Error {}

/** `work`, or a StoreTimeout after `ms` (the read itself goes on, its result unused). */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(`store read exceeded ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One behaviour, two ways of reading: `related` waits for the store (any store, with a timeout);
 * `relatedNow` answers synchronously from a store that reads without waiting (LMDB's memory
 * map) when the pointer and hidden posts are cached. Both plan, filter, fall back and log
 * through the same methods, so their answers are the same.
 */
export class RelatedService {
  constructor(private readonly deps: RelatedDeps) {}

  private storeFailed(tenantId: string, error: unknown): null {
    const { metrics } = this.deps;
    metrics.storeErrors.inc({
      tenant: metrics.tenant(tenantId),
      kind: error instanceof StoreTimeout ? 'timeout' : 'error',
    });
    return null;
  }

  /** A list of one algorithm from the active version; `popular` is the tenant's popular list. */
  private async read(
    tenantId: string,
    algorithm: string,
    postId: string,
  ): Promise<ServedList | null> {
    const { store, storeTimeoutMs, lists } = this.deps;
    try {
      const load = (version: string) =>
        algorithm === 'popular'
          ? lists.read([tenantId, version, algorithm], () => store.getPopularAt(tenantId, version))
          : lists.read([tenantId, version, algorithm, postId], () =>
              store.getListAt(tenantId, version, algorithm, postId),
            );
      const read = this.deps.active(tenantId).then(async (active) => {
        const served = await inActiveVersion(active, load);
        if (served || !active || algorithm !== 'popular') return served;
        // Every version has a popular list: the cached pointer names one collected since (the
        // batch keeps replaced versions longer than the pointer is cached, unless this process
        // stalled). Read the pointer again rather than answer nothing.
        return inActiveVersion(await this.deps.reloadActive(tenantId), load);
      });
      return await withTimeout(read, storeTimeoutMs);
    } catch (error) {
      return this.storeFailed(tenantId, error);
    }
  }

  /** The same read, synchronously (no timeout: a synchronous read cannot be abandoned). */
  private readNow(
    reads: ReadsNow,
    tenantId: string,
    algorithm: string,
    postId: string,
  ): ServedList | null {
    const { active, store } = reads;
    if (!active) return null;
    const { lists } = this.deps;
    try {
      const items =
        algorithm === 'popular'
          ? lists.readNow([tenantId, active.version, algorithm], () =>
              store.getPopularAtNow(tenantId, active.version),
            )
          : lists.readNow([tenantId, active.version, algorithm, postId], () =>
              store.getListAtNow(tenantId, active.version, algorithm, postId),
            );
      return items ? { version: active.version, items } : null;
    } catch (error) {
      return this.storeFailed(tenantId, error);
    }
  }

  /**
   * `active` is the tenant's pointer (undefined: it could not be read). An experiment is served
   * only when that version holds every variant's lists; until then users get the default and
   * are not enrolled, as a half-served test would be contaminated.
   */
  private plan(req: RelatedRequest, active: ActiveVersion | null | undefined): Plan {
    const file = this.deps.experiments();
    const found = findExperiment(file, req.tenantId, req.surface);
    const missing =
      found && (active ? missingAlgorithms(found, file.defaultAlgorithm, active) : []);
    const notReady =
      found && (active === undefined || missing!.length > 0)
        ? active === undefined
          ? 'the active version could not be read'
          : notReadyReason(missing!, active)
        : undefined;
    if (notReady) this.deps.onNotReady?.(found!.id, req.tenantId);
    const experiment = notReady ? undefined : found;
    const assignment = experiment
      ? assign(experiment, file.defaultAlgorithm, req.userId)
      : undefined;
    return {
      experiment,
      assignment,
      algorithms: assignment?.algorithms ?? [file.defaultAlgorithm],
      notEnrolled: notReady ? { experiment: found!.id, reason: notReady } : undefined,
    };
  }

  /** The tenant's pointer for planning; undefined when the store fails or is slow. */
  private async activeForPlan(tenantId: string): Promise<ActiveVersion | null | undefined> {
    try {
      return await withTimeout(this.deps.active(tenantId), this.deps.storeTimeoutMs);
    } catch {
      return undefined;
    }
  }

  async related(req: RelatedRequest, requestId: string): Promise<RelatedAnswer> {
    const started = performance.now();
    const plan = this.plan(req, await this.activeForPlan(req.tenantId));
    const [lists, hidden] = await Promise.all([
      Promise.all(plan.algorithms.map((a) => this.read(req.tenantId, a, req.postId))),
      this.deps.hidden(req.tenantId).catch(() => new Set<string>()),
    ]);
    const draft = this.draft(req, requestId, plan, lists, hidden);
    const popular = draft.fallback ? await this.read(req.tenantId, 'popular', req.postId) : null;
    return this.finish(req, requestId, plan, draft, popular, started);
  }

  /**
   * What `relatedNow` needs, if all of it is at hand: a store with synchronous reads, and the
   * tenant's pointer and hidden posts cached. Undefined otherwise (then nothing was counted or
   * logged, and the request goes the waiting way).
   */
  readsNow(tenantId: string): ReadsNow | undefined {
    const store = this.deps.store.now;
    if (!store) return undefined;
    const active = this.deps.activeNow?.(tenantId);
    if (active === undefined) return undefined;
    const hidden = this.deps.hiddenNow?.(tenantId);
    if (hidden === undefined) return undefined;
    return { active, hidden, store };
  }

  relatedNow(req: RelatedRequest, requestId: string, reads: ReadsNow): RelatedAnswer {
    const started = performance.now();
    const plan = this.plan(req, reads.active);
    const lists = plan.algorithms.map((a) => this.readNow(reads, req.tenantId, a, req.postId));
    const draft = this.draft(req, requestId, plan, lists, reads.hidden);
    const popular = draft.fallback
      ? this.readNow(reads, req.tenantId, 'popular', req.postId)
      : null;
    return this.finish(req, requestId, plan, draft, popular, started);
  }

  private draft(
    req: RelatedRequest,
    requestId: string,
    { experiment, assignment, algorithms }: Plan,
    lists: (ServedList | null)[],
    hidden: ReadonlySet<string>,
  ): Draft {
    const notShown: NotShown = {
      postId: req.postId,
      excluded: req.exclude.length > 0 ? new Set(req.exclude) : undefined,
      hidden,
    };
    let items: (ScoredItem | TeamItem)[];
    if (experiment?.type === 'interleaving' && !assignment?.holdout) {
      const [a, b] = experiment.variants;
      items = teamDraft(
        { team: a!.name, items: keepShown(lists[0]?.items ?? [], notShown) },
        { team: b!.name, items: keepShown(lists[1]?.items ?? [], notShown) },
        req.limit,
        requestId,
      );
    } else {
      items = keepShown(lists[0]?.items ?? [], notShown, req.limit);
    }
    const fallback =
      items.length < req.limit &&
      !(algorithms.length === 1 && algorithms[0] === 'popular' && lists[0]);
    return { notShown, items, version: lists.find((l) => l)?.version ?? null, fallback };
  }

  private finish(
    req: RelatedRequest,
    requestId: string,
    { experiment, assignment, algorithms, notEnrolled }: Plan,
    { notShown, items: drafted, version: draftVersion, fallback }: Draft,
    popular: ServedList | null,
    started: number,
  ): RelatedAnswer {
    let items = drafted;
    let version = draftVersion;
    if (fallback) {
      const shown = new Set(items.map((i) => i.postId));
      const more = keepShown(popular?.items ?? [], notShown).filter((i) => !shown.has(i.postId));
      items = [...items, ...more].slice(0, req.limit);
      version ??= popular?.version ?? null;
      this.deps.metrics.fallbacks.inc({ tenant: this.deps.metrics.tenant(req.tenantId) });
    }

    const { tenantId, postId, surface, userId } = req;
    const served = itemsJson(items);
    const algorithm = algorithms.join('+');
    const experimentId = experiment?.id ?? null;
    const variant = assignment?.variant ?? null;
    const ts = isoNow();
    if (experimentId)
      this.deps.logs.writeJson(
        'assignment',
        assignmentJson({
          requestId,
          tenantId,
          surface,
          userId,
          ts,
          experiment: experimentId,
          variant,
        }),
      );
    const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
    this.deps.logs.writeJson(
      'exposure',
      exposureJson(
        {
          requestId,
          tenantId,
          surface,
          userId,
          ts,
          postId,
          experiment: experimentId,
          variant,
          split: experiment ? splitOf(experiment) : null,
          algorithm,
          version,
          latencyMs,
          fallback,
          notEnrolled: notEnrolled?.experiment ?? null,
          notEnrolledReason: notEnrolled?.reason ?? null,
        },
        served,
      ),
    );
    const json = responseJson(
      {
        requestId,
        tenantId,
        postId,
        algorithm,
        version,
        experiment: experimentId,
        variant,
        fallback,
      },
      served,
    );
    return { json, variant };
  }
}
