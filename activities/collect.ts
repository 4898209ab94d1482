import { tenantFolder, uriName } from '../core/artifacts.js';
import type { Config } from '../core/config.js';
import { versionSchema, type CollectionGrace } from '../core/store/types.js';
import type { StepContext } from './context.js';

/**
 * Run artifacts (runs/<run id>/<tenant>/...) live as long as a kept version of the tenant
 * references them; what a crashed or abandoned run left behind goes once nothing has written to
 * it for pipeline.abandonedGraceHours (a run in progress writes more often than that).
 */
export function collectionGrace(config: Config): CollectionGrace {
  return {
    supersededMs: config.pipeline.supersededGraceSeconds * 1000,
    abandonedMs: config.pipeline.abandonedGraceHours * 3_600_000,
  };
}

/** Run ids with a folder under runs/ (names that are not run ids are never touched). */
async function runIds(ctx: Pick<StepContext, 'artifacts'>): Promise<string[]> {
  const runs = await ctx.artifacts.list(ctx.artifacts.uri('runs'));
  return runs.map(uriName).filter((name) => versionSchema.safeParse(name).success);
}

/**
 * Removes the tenant's run folders for which `doomed(runId, modifiedAt)` holds; returns their
 * run ids.
 */
export async function removeTenantRuns(
  ctx: Pick<StepContext, 'artifacts'>,
  tenantId: string,
  doomed: (runId: string, modifiedAt: number) => boolean,
): Promise<string[]> {
  const removed: string[] = [];
  for (const runId of await runIds(ctx)) {
    const uri = ctx.artifacts.uri('runs', runId, tenantFolder(tenantId));
    const modifiedAt = await ctx.artifacts.modifiedAt(uri);
    if (modifiedAt === null || !doomed(runId, modifiedAt)) continue;
    await ctx.artifacts.remove(uri);
    removed.push(runId);
  }
  return removed;
}

/**
 * After an activation: the tenant's run folders that no kept version references. Those of
 * versions just collected go at once; the others (runs that crashed or never activated) once
 * untouched for the abandoned grace.
 */
export async function collectTenantArtifacts(
  ctx: Pick<StepContext, 'artifacts' | 'config'>,
  tenantId: string,
  kept: ReadonlySet<string>,
  collected: readonly string[],
  now = Date.now(),
): Promise<string[]> {
  const cutoff = now - collectionGrace(ctx.config).abandonedMs;
  return removeTenantRuns(
    ctx,
    tenantId,
    (runId, modifiedAt) => !kept.has(runId) && (collected.includes(runId) || modifiedAt <= cutoff),
  );
}

/**
 * At the start of a batch: what earlier batches left at run level once untouched for the
 * abandoned grace: their tenant lists (tenants.json), run folders left empty, and partial
 * writes of crashed processes anywhere.
 */
export async function collectRunLeftovers(
  ctx: Pick<StepContext, 'artifacts' | 'config'>,
  currentRunId: string,
  now = Date.now(),
): Promise<{ runFolders: number; partialWrites: number }> {
  const cutoff = now - collectionGrace(ctx.config).abandonedMs;
  const stale = async (uri: string) => ((await ctx.artifacts.modifiedAt(uri)) ?? now) <= cutoff;
  let runFolders = 0;
  for (const runId of await runIds(ctx)) {
    if (runId === currentRunId) continue;
    const tenants = ctx.artifacts.uri('runs', runId, 'tenants.json');
    if (await stale(tenants)) await ctx.artifacts.remove(tenants);
    const folder = ctx.artifacts.uri('runs', runId);
    if ((await ctx.artifacts.list(folder)).length === 0 && (await stale(folder))) {
      await ctx.artifacts.remove(folder);
      runFolders += 1;
    }
  }
  return { runFolders, partialWrites: await ctx.artifacts.removePartialWrites(cutoff) };
}
