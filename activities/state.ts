import { readJson, tenantFolder, writeJson } from '../core/artifacts.js';
import type { StepContext } from './context.js';

/**
 * What the next run of a tenant starts from: written only when a run activates, so a failed run
 * leaves the watermark and the embedding cache where they were.
 */
export interface TenantState {
  version: string;
  /** Latest updatedAt seen; the next extract reads posts updated at or after it. */
  watermark?: string;
  snapshotUri: string;
  embeddingsUri?: string;
  updatedAt: string;
}

function stateUri(ctx: Pick<StepContext, 'artifacts'>, tenantId: string): string {
  return ctx.artifacts.uri('tenants', tenantFolder(tenantId), 'state.json');
}

export async function readTenantState(
  ctx: Pick<StepContext, 'artifacts'>,
  tenantId: string,
): Promise<TenantState | null> {
  const uri = stateUri(ctx, tenantId);
  return (await ctx.artifacts.exists(uri)) ? readJson<TenantState>(ctx.artifacts, uri) : null;
}

export async function writeTenantState(
  ctx: Pick<StepContext, 'artifacts'>,
  tenantId: string,
  state: TenantState,
): Promise<void> {
  await writeJson(ctx.artifacts, stateUri(ctx, tenantId), state);
}

export async function deleteTenantState(
  ctx: Pick<StepContext, 'artifacts'>,
  tenantId: string,
): Promise<void> {
  await ctx.artifacts.remove(ctx.artifacts.uri('tenants', tenantFolder(tenantId)));
}
