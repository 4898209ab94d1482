import { readJson, writeJson } from '../core/artifacts.js';
import { loadExperiments } from '../core/experiments.js';
import { idSchema } from '../core/ids.js';
import { log } from '../core/log.js';
import { collectRunLeftovers, removeTenantRuns } from './collect.js';
import type { StepContext } from './context.js';
import { deleteTenantState } from './state.js';

/**
 * The tenant lifecycle. A run processes every valid, enabled tenant of the warehouse: new tenants
 * need no manual step. A served tenant that is missing from the warehouse or disabled is noted
 * with the day it went missing; after `pipeline.purgeGraceDays` its lists are purged.
 */
export interface RunPlan {
  /** Artifact with the run's tenant ids (it can be long: it never travels in a payload). */
  tenantsUri: string;
  tenants: number;
  /** Served tenants past their grace period: purge them. */
  retired: string[];
  /** Served tenants missing or disabled, still within their grace period. */
  retiring: number;
  invalidTenantIds: number;
}

type MissingSince = Record<string, string>;

function missingUri(ctx: Pick<StepContext, 'artifacts'>): string {
  return ctx.artifacts.uri('tenants', 'missing-since.json');
}

async function readMissing(ctx: Pick<StepContext, 'artifacts'>): Promise<MissingSince> {
  const uri = missingUri(ctx);
  return (await ctx.artifacts.exists(uri)) ? readJson<MissingSince>(ctx.artifacts, uri) : {};
}

export async function planRun(
  ctx: StepContext,
  input: { runId: string; now?: string },
): Promise<RunPlan> {
  const now = input.now ?? new Date().toISOString();
  // Every tenant reads the experiments file: one with an error would fail them all, one by one.
  loadExperiments(ctx.config.experimentsFile);
  // Read before anything is written or collected: a store the run cannot reach (no credentials,
  // a wrong project) stops it with nothing left behind.
  const served = await ctx.store.listTenants();
  const disabled = new Set(ctx.config.pipeline.disabledTenants);
  const tenants: string[] = [];
  let invalidTenantIds = 0;
  for (const { tenantId } of await ctx.warehouse.listTenants()) {
    if (!idSchema.safeParse(tenantId).success) {
      invalidTenantIds += 1;
      log.warn('skipping a tenant with an invalid id', {
        tenantId: JSON.stringify(tenantId).slice(0, 80),
      });
    } else if (!disabled.has(tenantId)) {
      tenants.push(tenantId);
    }
  }
  tenants.sort();
  const leftovers = await collectRunLeftovers(ctx, input.runId, Date.parse(now));
  if (leftovers.runFolders + leftovers.partialWrites > 0)
    log.info('collected artifacts of earlier runs', { runId: input.runId, ...leftovers });
  const tenantsUri = ctx.artifacts.uri('runs', input.runId, 'tenants.json');
  await writeJson(ctx.artifacts, tenantsUri, tenants);

  const active = new Set(tenants);
  const previous = await readMissing(ctx);
  const missing: MissingSince = {};
  for (const tenantId of served) {
    if (!active.has(tenantId)) missing[tenantId] = previous[tenantId] ?? now;
  }
  await writeJson(ctx.artifacts, missingUri(ctx), missing);
  const graceMs = ctx.config.pipeline.purgeGraceDays * 86_400_000;
  const retired = Object.keys(missing)
    .filter((t) => Date.parse(now) - Date.parse(missing[t]!) >= graceMs)
    .sort();
  return {
    tenantsUri,
    tenants: tenants.length,
    retired,
    retiring: Object.keys(missing).length - retired.length,
    invalidTenantIds,
  };
}

export async function readTenants(
  ctx: StepContext,
  input: { tenantsUri: string; offset: number; limit: number },
): Promise<string[]> {
  const tenants = await readJson<string[]>(ctx.artifacts, input.tenantsUri);
  return tenants.slice(input.offset, input.offset + input.limit);
}

/** Removes everything served for a tenant, and its pipeline state. Idempotent. */
export async function purgeTenant(ctx: StepContext, input: { tenantId: string }): Promise<void> {
  await ctx.store.purgeTenant(input.tenantId);
  await deleteTenantState(ctx, input.tenantId);
  await removeTenantRuns(ctx, input.tenantId, () => true);
  const missing = await readMissing(ctx);
  if (input.tenantId in missing) {
    delete missing[input.tenantId];
    await writeJson(ctx.artifacts, missingUri(ctx), missing);
  }
  log.info('tenant purged', { tenantId: input.tenantId });
}
