import { tenantFolder } from '../core/artifacts.js';
import { BadDataError, plural } from '../core/errors.js';
import { algorithmsForTenant, isCurrentFor, loadExperiments } from '../core/experiments.js';
import type { RunRecord } from '../core/warehouse/types.js';
import type { StepContext } from './context.js';
import { fieldedEmbeddingsPlan } from './lexical.js';
import { readTenantState, type TenantState } from './state.js';

/**
 * Starting a test the same day: a new version that carries the active version's lists over
 * unchanged and adds the lists the experiments file newly needs, computed from the same snapshot
 * (so every list of the version describes the same posts). The active version is never written:
 * versions are immutable once active.
 */
export interface CatchUpInput {
  tenantId: string;
  /** The new version (a run id that sorts above the active one). */
  version: string;
}

export interface CatchUpPlan {
  tenantId: string;
  version: string;
  /** The version the lists are carried over from. */
  from: string;
  /** Algorithms to compute; empty when the active version already serves every one. */
  missing: string[];
  /** Why nothing is computed, when `missing` is empty. */
  skipped?: string;
  snapshotUri: string;
  embeddingsUri?: string;
  /** fielded is missing and reads the run's embeddings (fielded.latentVectors "embedding"). */
  fieldedReadsEmbeddings?: true;
  /** Lists of the active version, copied into the new version's run folder. */
  carried: Record<string, string>;
  /** The active version's algorithms (popular included). */
  algorithms: string[];
  lists: number;
  state: Omit<TenantState, 'version' | 'updatedAt'>;
  record: Pick<RunRecord, 'modelId' | 'inputs' | 'metrics' | 'artifacts'>;
}

/** Every file under a folder URI (the artifact store lists one level). */
async function filesUnder(ctx: StepContext, folder: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await ctx.artifacts.list(folder)) {
    const inside = await ctx.artifacts.list(entry);
    if (inside.length > 0) files.push(...(await filesUnder(ctx, entry)));
    else files.push(entry);
  }
  return files;
}

async function activeRecord(
  ctx: StepContext,
  tenantId: string,
  version: string,
): Promise<RunRecord> {
  const records = await ctx.warehouse.listRunRecords({ tenantId, limit: 1000 });
  const record = records.find((r) => r.runId === version && !r.failure);
  if (!record)
    throw new BadDataError(
      `Version ${version} of tenant "${tenantId}" has no run record: run the batch for it (osusume batch --tenant ${tenantId}).`,
    );
  return record;
}

/**
 * Plans the new version and carries the active one over: its run folder is copied under the new
 * version (snapshot, embeddings, model, lists: each version's artifacts stay self-contained, so
 * collecting the old version later loses nothing) and its popular list is written under the new
 * version. Idempotent: a retry copies the same files again.
 */
export async function prepareCatchUp(ctx: StepContext, input: CatchUpInput): Promise<CatchUpPlan> {
  const { tenantId, version } = input;
  const active = await ctx.store.getActive(tenantId);
  if (!active)
    throw new BadDataError(
      `Tenant "${tenantId}" has no active version: check the spelling against the warehouse's tenants (osusume batch --list); a tenant listed there has not run yet (osusume batch --tenant ${tenantId} runs it).`,
    );
  if (version <= active.version)
    throw new BadDataError(
      `Version ${version} does not sort after the active version ${active.version} of "${tenantId}": use a later run id.`,
    );
  const record = await activeRecord(ctx, tenantId, active.version);
  const posts = record.inputs.posts ?? 0;
  const full = posts >= ctx.config.pipeline.minPostsForEmbedding;
  const experiments = loadExperiments(ctx.config.experimentsFile);
  const wanted = algorithmsForTenant(experiments, tenantId);
  const named = experiments.experiments.some((e) => isCurrentFor(e, tenantId));
  const missing = full ? wanted.filter((a) => !active.algorithms.includes(a)) : [];
  const base = {
    tenantId,
    version,
    from: active.version,
    algorithms: active.algorithms,
    lists: active.lists,
  };
  if (missing.length === 0) {
    return {
      ...base,
      missing,
      // Named on the command line but in no experiment: say so, not that its lists are there.
      skipped: !named
        ? `no experiment of ${ctx.config.experimentsFile} that has not ended names ${tenantId}: add it to an experiment's tenants, then run start-test again`
        : full
          ? `active version ${active.version} already has ${wanted.join(', ')}`
          : `${plural(posts, 'post')}, below pipeline.minPostsForEmbedding: it serves popular lists only`,
      snapshotUri: record.artifacts.snapshot ?? '',
      carried: {},
      state: { snapshotUri: record.artifacts.snapshot ?? '' },
      record,
    };
  }

  const oldFolder = ctx.artifacts.uri('runs', active.version, tenantFolder(tenantId));
  const newFolder = ctx.artifacts.uri('runs', version, tenantFolder(tenantId));
  const moved = (uri: string) =>
    uri.startsWith(oldFolder) ? newFolder + uri.slice(oldFolder.length) : uri;
  for (const file of await filesUnder(ctx, oldFolder))
    await ctx.artifacts.write(moved(file), await ctx.artifacts.read(file));
  const popular = await ctx.store.getPopularAt(tenantId, active.version);
  if (!popular)
    throw new BadDataError(
      `Version ${active.version} of "${tenantId}" has no popular list in the store; run the batch for it.`,
    );
  await ctx.store.writePopular(tenantId, version, popular);

  const artifacts = Object.fromEntries(
    Object.entries(record.artifacts).map(([name, uri]) => [name, moved(uri)]),
  );
  const carried = Object.fromEntries(
    active.algorithms
      .filter((a) => artifacts[`lists-${a}`])
      .map((a) => [a, artifacts[`lists-${a}`]!]),
  );
  const state = await readTenantState(ctx, tenantId);
  return {
    ...base,
    missing,
    snapshotUri: artifacts.snapshot!,
    embeddingsUri: artifacts.embeddings,
    ...fieldedEmbeddingsPlan(ctx.config, missing),
    carried,
    state: {
      // A watermark of another version (after a rollback) would skip posts: then re-read all.
      watermark: state?.version === active.version ? state.watermark : undefined,
      snapshotUri: artifacts.snapshot!,
      embeddingsUri: artifacts.embeddings,
    },
    record: { ...record, artifacts },
  };
}
