import { errorMessage } from '../core/errors.js';
import { log } from '../core/log.js';
import { readJson, readJsonLines } from '../core/artifacts.js';
import {
  collectGarbage,
  unservedPosts,
  wasActivated,
  type ActiveVersion,
  type RelatedList,
  type ScoredItem,
} from '../core/store/types.js';
import { codeVersion } from '../core/version.js';
import type { RunRecord } from '../core/warehouse/types.js';
import { collectionGrace, collectTenantArtifacts } from './collect.js';
import type { StepContext } from './context.js';
import { writeTenantState, type TenantState } from './state.js';

export interface StoreListsInput {
  tenantId: string;
  version: string;
  algorithm: string;
  listsUri: string;
}

/** Writes lists under their version; nothing is visible until `activateVersion`. */
export async function storeLists(ctx: StepContext, input: StoreListsInput): Promise<number> {
  const lists = await readJsonLines<RelatedList>(ctx.artifacts, input.listsUri);
  const batch = 2_000;
  for (let s = 0; s < lists.length; s += batch) {
    await ctx.store.writeLists(
      input.tenantId,
      input.version,
      input.algorithm,
      lists.slice(s, s + batch),
    );
  }
  return lists.length;
}

export interface StorePopularInput {
  tenantId: string;
  version: string;
  popularUri: string;
}

/**
 * The first write of a run's version. What an earlier, crashed attempt of the same run id left
 * in the version goes first (lists of since-deleted posts would stay otherwise); a version that
 * was activated is never touched (the store refuses the write).
 */
export async function storePopular(ctx: StepContext, input: StorePopularInput): Promise<void> {
  const earlier = (await ctx.store.listVersions(input.tenantId)).find(
    (v) => v.version === input.version,
  );
  if (earlier && !wasActivated(earlier))
    await ctx.store.deleteVersion(input.tenantId, input.version);
  await ctx.store.writePopular(
    input.tenantId,
    input.version,
    await readJson<ScoredItem[]>(ctx.artifacts, input.popularUri),
  );
}

export interface ActivateInput {
  tenantId: string;
  version: string;
  algorithms: string[];
  lists: number;
  /** Where the next run of this tenant starts from. */
  state: Omit<TenantState, 'version' | 'updatedAt'>;
  /** What the run did, for its run record (the activity adds parameters and code version). */
  record?: Pick<RunRecord, 'modelId' | 'inputs' | 'metrics' | 'seconds' | 'artifacts'>;
  /**
   * The active version this one was built on (start-test carries its lists and snapshot over):
   * the activation is refused if another became active meanwhile, as this one holds older data.
   */
  replaces?: string;
}

/** The configuration that shapes a tenant's lists: recorded with every run. */
function runParams(ctx: StepContext, algorithms: string[]): Record<string, unknown> {
  const { neighbours, pipeline, model, fielded } = ctx.config;
  return {
    algorithms,
    k: neighbours.k,
    exactMaxPosts: neighbours.exactMaxPosts,
    nprobe: neighbours.nprobe,
    minPostsForEmbedding: pipeline.minPostsForEmbedding,
    maxTextChars: pipeline.maxTextChars,
    lsaDim: model.lsaDim,
    maxTokens: model.maxTokens,
    // The default lists' weights: a version made with other weights is told apart by them.
    fielded,
  };
}

export interface ActivateResult {
  active: ActiveVersion;
  collected: string[];
}

/**
 * The one write that makes a run visible, then the clean-up it allows: versions no reader can
 * reach (superseded for longer than an API keeps a pointer, or abandoned), and run artifacts no
 * kept version references. The tenant state (watermark, caches) moves only now.
 * The store refuses, in the transaction that writes the pointer, a version activated before and
 * replaced since (this step run again by a Temporal retry or a Reset of an old run would bring
 * back older lists and their watermark; rollback is the one way back), and one built on an
 * active version that another replaced meanwhile (a nightly run that finished while start-test
 * computed). Activating it again while it is the active one is a retry of this very step, and
 * goes ahead.
 */
export async function activateVersion(
  ctx: StepContext,
  input: ActivateInput,
): Promise<ActivateResult> {
  const active = await ctx.store.activate(
    input.tenantId,
    {
      version: input.version,
      activatedAt: new Date().toISOString(),
      algorithms: input.algorithms,
      lists: input.lists,
    },
    ctx.config.pipeline.keepVersions,
    { replaces: input.replaces },
  );
  // Outside the store's transaction: two activations of a tenant close together may leave the
  // state of the one that lost the pointer. That costs work, not data: a state's watermark and
  // snapshot are of one run, so the next extract still reads every post changed since; a rollback
  // re-reads the tenant in full (another version's watermark); a cache file since collected is
  // recomputed.
  await writeTenantState(ctx, input.tenantId, {
    ...input.state,
    version: input.version,
    updatedAt: new Date().toISOString(),
  });
  if (input.record) {
    await ctx.warehouse.writeRunRecord({
      ...input.record,
      runId: input.version,
      tenantId: input.tenantId,
      recordedAt: new Date().toISOString(),
      codeVersion: codeVersion(),
      params: runParams(ctx, input.algorithms),
    });
  }
  const collected = await collectGarbage(
    ctx.store,
    input.tenantId,
    active,
    collectionGrace(ctx.config),
  );
  const kept = new Set((await ctx.store.listVersions(input.tenantId)).map((v) => v.version));
  await collectTenantArtifacts(ctx, input.tenantId, kept.add(input.version), collected);
  // Hidden posts the new version no longer has (deleted since) need hiding no more: this keeps
  // the tenant's hidden set, which every API process holds, from filling up (api.maxHiddenPerTenant).
  const gone = await unservedPosts(
    ctx.store,
    input.tenantId,
    await ctx.store.getHidden(input.tenantId),
    active,
  );
  if (gone.length > 0) await ctx.store.setHidden(input.tenantId, gone, false);
  return { active, collected };
}

/**
 * Records the tenants of a batch that failed for good (`osusume runs` shows them): nothing they
 * computed is served. Called by the batch with each segment's failures, and by its alert with
 * the report, which lists the first failures: those are recorded already unless the batch
 * began before it recorded every failure (failuresRecorded unset).
 */
export async function recordFailedRuns(
  ctx: StepContext,
  report: { runId: string; failed: { tenantId: string; error: string }[]; failuresRecorded?: true },
): Promise<void> {
  if (report.failuresRecorded) return;
  for (const { tenantId, error } of report.failed) {
    // A warehouse that fails here must not hold back the alert about the failed tenants.
    await ctx.warehouse
      .writeRunRecord({
        runId: report.runId,
        tenantId,
        recordedAt: new Date().toISOString(),
        codeVersion: codeVersion(),
        modelId: null,
        params: {},
        inputs: {},
        metrics: {},
        seconds: {},
        artifacts: {},
        failure: { error },
      })
      .catch((e: unknown) =>
        log.warn('could not record a failed run', { tenantId, error: errorMessage(e) }),
      );
  }
}
