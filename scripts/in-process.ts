import { parseTenantId } from '../core/ids.js';
import { checkVersion } from '../core/store/types.js';
import { runCatchUpFlow, type CatchUpReport } from '../workflows/catch-up-flow.js';
import { runTenantFlow, type Step, type TenantReport } from '../workflows/tenant-flow.js';
import { prepareCatchUp } from '../activities/catch-up.js';
import type { StepContext } from '../activities/context.js';
import { embedPosts } from '../activities/embed.js';
import { extractPosts } from '../activities/extract.js';
import { computeCoengagement } from '../activities/coengagement.js';
import { computeHybrid } from '../activities/hybrid.js';
import { computeFielded, computeLexical } from '../activities/lexical.js';
import { computeNeighbours } from '../activities/neighbours.js';
import { computePopular } from '../activities/popular.js';
import { activateVersion, storeLists, storePopular } from '../activities/publish.js';

/**
 * One tenant's run in process: the tenant workflow's flow with the steps called directly. This is
 * the local batch command's path, and the fallback of the main job when no Temporal server runs.
 */
export type { Step, TenantReport };

export interface TenantProgress {
  step: Step;
  done?: number;
  total?: number;
}

export async function runTenant(
  ctx: StepContext,
  input: { tenantId: string; runId: string },
  onProgress: (p: TenantProgress) => void = () => {},
): Promise<TenantReport> {
  const tenantId = parseTenantId(input.tenantId);
  const runId = checkVersion(input.runId);
  const step =
    <I, O>(name: Step, fn: (i: I) => Promise<O>) =>
    (i: I): Promise<O> => {
      onProgress({ step: name });
      return fn(i);
    };
  return runTenantFlow(
    {
      extract: step('extract', (i) => extractPosts(ctx, i)),
      popular: step('popular', (i) => computePopular(ctx, i)),
      embed: step('embed', (i) =>
        embedPosts(ctx, i, (p) => onProgress({ step: 'embed', done: p.done, total: p.total })),
      ),
      neighbours: step('neighbours', (i) =>
        computeNeighbours(ctx, i, (done, total) => onProgress({ step: 'neighbours', done, total })),
      ),
      lexical: step('lexical', (i) => computeLexical(ctx, i)),
      fielded: step('fielded', (i) => computeFielded(ctx, i)),
      hybrid: step('hybrid', (i) => computeHybrid(ctx, i)),
      coengagement: step('coengagement', (i) => computeCoengagement(ctx, i)),
      storePopular: step('storePopular', (i) => storePopular(ctx, i)),
      storeLists: step('storeLists', (i) => storeLists(ctx, i)),
      activate: step('activate', (i) => activateVersion(ctx, i)),
    },
    { tenantId, runId },
  );
}

/** Starting a test the same day for one tenant, in process (`osusume start-test`). */
export async function catchUpTenant(
  ctx: StepContext,
  input: { tenantId: string; version: string },
): Promise<CatchUpReport> {
  return runCatchUpFlow(
    {
      prepareCatchUp: (i) => prepareCatchUp(ctx, i),
      embed: (i) => embedPosts(ctx, i),
      neighbours: (i) => computeNeighbours(ctx, i),
      lexical: (i) => computeLexical(ctx, i),
      fielded: (i) => computeFielded(ctx, i),
      hybrid: (i) => computeHybrid(ctx, i),
      coengagement: (i) => computeCoengagement(ctx, i),
      storeLists: (i) => storeLists(ctx, i),
      activate: (i) => activateVersion(ctx, i),
    },
    { tenantId: parseTenantId(input.tenantId), version: checkVersion(input.version) },
  );
}
