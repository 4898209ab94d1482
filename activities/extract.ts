import { readJsonLines, runArtifact, writeJsonLines } from '../core/artifacts.js';
import { BadDataError } from '../core/errors.js';
import { algorithmsForTenant, loadExperiments } from '../core/experiments.js';
import { parseTenantId } from '../core/ids.js';
import { log } from '../core/log.js';
import { wasActivated } from '../core/store/types.js';
import {
  toSnapshotPost,
  validatePostRow,
  type SkipReason,
  type SnapshotPost,
} from '../core/posts.js';
import type { StepContext } from './context.js';
import { fieldedEmbeddingsPlan } from './lexical.js';
import { readTenantState, type TenantState } from './state.js';

export interface ExtractInput {
  tenantId: string;
  runId: string;
}

export interface ExtractResult {
  snapshotUri: string;
  /** Live posts in the snapshot. */
  posts: number;
  /**
   * Live posts whose text is an exact copy of another's: no list recommends them (each text is
   * ranked once). Absent in histories recorded before it was counted here.
   */
  copies?: number;
  /** Rows read from the warehouse this run (only changes when a watermark exists). */
  rowsRead: number;
  deleted: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** A few skipped rows, to say what was wrong without flooding logs. */
  skippedExamples: string[];
  /** Every skipped row (JSON lines: postId, reason, detail), when any was skipped. */
  skippedUri?: string;
  watermark?: string;
  incremental: boolean;
  /**
   * Per-post lists, or popularity only: for a tenant below pipeline.minPostsForEmbedding, or one
   * whose experiments (and the default algorithm) use nothing else. "unchanged" with
   * alreadyActivated.
   */
  mode: 'lists' | 'popular' | 'unchanged';
  /** With mode "lists": the per-post list algorithms the experiments file needs (embedding, lexical, hybrid, coengagement). */
  listAlgorithms?: string[];
  /** The default lists read the run's embeddings (fielded.latentVectors "embedding"): embed even if nothing serves them. */
  fieldedReadsEmbeddings?: true;
  /** The last activated run's embeddings, for the embed step to reuse. */
  previousEmbeddingsUri?: string;
  /**
   * This run id was already activated for the tenant: a version is immutable once served, so
   * nothing was read or written and the flow stops here (a new run id serves new data).
   */
  alreadyActivated?: true;
}

/** Which lists the tenant needs: the experiments file says which algorithms are served. */
function listPlan(
  ctx: StepContext,
  tenantId: string,
  posts: number,
): Pick<ExtractResult, 'mode' | 'listAlgorithms' | 'fieldedReadsEmbeddings'> {
  const wanted = algorithmsForTenant(loadExperiments(ctx.config.experimentsFile), tenantId).filter(
    (a) => a !== 'popular',
  );
  if (posts < ctx.config.pipeline.minPostsForEmbedding || wanted.length === 0)
    return { mode: 'popular' };
  return {
    mode: 'lists',
    listAlgorithms: wanted,
    ...fieldedEmbeddingsPlan(ctx.config, wanted),
  };
}

/** What an already activated run of the tenant holds, without touching it. */
async function alreadyActivated(
  ctx: StepContext,
  tenantId: string,
  runId: string,
): Promise<ExtractResult> {
  const snapshotUri = runArtifact(ctx.artifacts, runId, tenantId, 'snapshot.jsonl');
  const posts = (await ctx.artifacts.exists(snapshotUri))
    ? (await readJsonLines(ctx.artifacts, snapshotUri)).length
    : 0;
  return {
    snapshotUri,
    posts,
    rowsRead: 0,
    deleted: 0,
    skipped: {},
    skippedExamples: [],
    incremental: false,
    mode: 'unchanged',
    alreadyActivated: true,
  };
}

/**
 * The tenant's state and the snapshot it names. Either one damaged on disk or removed by hand
 * reads as no state: the tenant is read in full, which writes both again, where failing would
 * fail every later run of the tenant.
 */
async function readPrevious(
  ctx: StepContext,
  tenantId: string,
): Promise<{ state: TenantState | null; previous: Partial<SnapshotPost>[] }> {
  const unreadable = (detail: string) => {
    log.warn('tenant state unreadable, reading the tenant in full', { tenantId, detail });
    return { state: null, previous: [] };
  };
  try {
    const state = await readTenantState(ctx, tenantId);
    if (!state) return { state, previous: [] };
    if (!(await ctx.artifacts.exists(state.snapshotUri)))
      return unreadable(`${state.snapshotUri} does not exist`);
    // Snapshots written before titles were kept have none: typed as what may be on disk.
    return {
      state,
      previous: await readJsonLines<Partial<SnapshotPost>>(ctx.artifacts, state.snapshotUri),
    };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return unreadable(error.message);
  }
}

/**
 * Reads the posts changed since the tenant's watermark, validates them, and merges them into the
 * previous snapshot: the result is the tenant's complete set of live posts, as an artifact.
 */
export async function extractPosts(ctx: StepContext, input: ExtractInput): Promise<ExtractResult> {
  const tenantId = parseTenantId(input.tenantId);
  const version = (await ctx.store.listVersions(tenantId)).find((v) => v.version === input.runId);
  if (wasActivated(version)) return alreadyActivated(ctx, tenantId, input.runId);
  const { state, previous } = await readPrevious(ctx, tenantId);
  // A snapshot written before titles were kept would leave the title-aware algorithm blind to
  // every unchanged post: such a tenant is read in full once.
  const incremental = state !== null && previous.every((p) => p.title !== undefined);
  const rows = await ctx.warehouse.readPosts(tenantId, incremental ? state.watermark : undefined);
  if (!state && rows.length === 0) {
    throw new BadDataError(
      `Tenant ${JSON.stringify(tenantId)} has no posts in the warehouse. Check the tenant id (npm run batch -- --list).`,
    );
  }
  const posts = new Map<string, SnapshotPost>();
  if (incremental) for (const p of previous as SnapshotPost[]) posts.set(p.postId, p);

  const skipped: Partial<Record<SkipReason, number>> = {};
  const skippedExamples: string[] = [];
  // One entry per skipped row of this tenant's rows, which are in memory already.
  const skippedRows: { postId: string; reason: SkipReason; detail: string }[] = [];
  const skip = (reason: SkipReason, postId: string, detail: string) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
    skippedRows.push({ postId, reason, detail });
    if (skippedExamples.length < 5)
      skippedExamples.push(`${reason}: post ${JSON.stringify(postId).slice(0, 80)}: ${detail}`);
  };
  const seen = new Set<string>();
  let deleted = 0;
  let watermark = incremental ? state.watermark : undefined;
  // Rows come ordered by postId then updatedAt: the last row of an id is its latest version.
  for (const row of rows) {
    const verdict = validatePostRow(row, ctx.config.pipeline);
    const postId = typeof row.postId === 'string' ? row.postId : '?';
    if (!verdict.ok) {
      skip(verdict.reason, postId, verdict.detail);
      continue;
    }
    const post = verdict.post;
    if (post.tenantId !== tenantId) continue;
    if (seen.has(post.postId))
      skip('duplicate-id', post.postId, 'appears more than once; the latest row wins');
    seen.add(post.postId);
    if (!watermark || post.updatedAt > watermark) watermark = post.updatedAt;
    if (post.deleted) {
      posts.delete(post.postId);
      deleted += 1;
      continue;
    }
    posts.set(post.postId, toSnapshotPost(post, ctx.config.pipeline.maxTextChars));
  }
  if (posts.size === 0 && deleted === 0) {
    // Activating an empty version would wipe what is served: refuse, and say why.
    throw new BadDataError(
      `Tenant ${JSON.stringify(tenantId)}: none of its ${rows.length} rows is a valid post (${skippedExamples.join('; ')}). Fix the rows in the warehouse.`,
    );
  }
  const snapshot = [...posts.values()].sort((a, b) =>
    a.postId < b.postId ? -1 : a.postId > b.postId ? 1 : 0,
  );
  const snapshotUri = runArtifact(ctx.artifacts, input.runId, tenantId, 'snapshot.jsonl');
  await writeJsonLines(ctx.artifacts, snapshotUri, snapshot);
  let skippedUri: string | undefined;
  if (skippedRows.length > 0) {
    skippedUri = runArtifact(ctx.artifacts, input.runId, tenantId, 'skipped.jsonl');
    await writeJsonLines(ctx.artifacts, skippedUri, skippedRows);
  }
  return {
    snapshotUri,
    posts: snapshot.length,
    copies: snapshot.length - new Set(snapshot.map((p) => p.contentHash)).size,
    rowsRead: rows.length,
    deleted,
    skipped,
    skippedExamples,
    skippedUri,
    watermark,
    incremental,
    ...listPlan(ctx, tenantId, snapshot.length),
    previousEmbeddingsUri: state?.embeddingsUri,
  };
}
