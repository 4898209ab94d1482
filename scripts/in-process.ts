import { parseTenantId } from '../core/ids.js';
import { checkVersion } from '../core/store/types.js';
import {
  runCatchUpFlow,
  type CatchUpReport,
  type CatchUpSteps,
} from '../workflows/catch-up-flow.js';
import {
  runTenantFlow,
  type Step,
  type TenantReport,
  type TenantSteps,
} from '../workflows/tenant-flow.js';
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

/** A step that starts (no counts), or how far one that counts its work is. */
export interface TenantProgress<S extends string = Step> {
  step: S;
  done?: number;
  total?: number;
}

/** The steps of the catch-up flow (`osusume start-test`). */
export type CatchUpStep = keyof CatchUpSteps;

/** The steps both flows run, by the names their flows give them. */
type SharedStep = CatchUpStep & Step;

/**
 * The steps both flows share, each saying when it starts, and the wrapper that makes a flow's own
 * steps say so too. embed and neighbours also report how many of their posts they have done: a
 * large tenant spends most of its time there.
 */
function reportingSteps<S extends string>(
  ctx: StepContext,
  onProgress: (p: TenantProgress<S | SharedStep>) => void,
) {
  const step =
    <I, O>(name: S | SharedStep, fn: (i: I) => Promise<O>) =>
    (i: I): Promise<O> => {
      onProgress({ step: name });
      return fn(i);
    };
  const shared: Pick<TenantSteps, SharedStep> = {
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
    storeLists: step('storeLists', (i) => storeLists(ctx, i)),
    activate: step('activate', (i) => activateVersion(ctx, i)),
  };
  return { step, shared };
}

export async function runTenant(
  ctx: StepContext,
  input: { tenantId: string; runId: string },
  onProgress: (p: TenantProgress) => void = () => {},
): Promise<TenantReport> {
  const tenantId = parseTenantId(input.tenantId);
  const runId = checkVersion(input.runId);
  const { step, shared } = reportingSteps<Step>(ctx, onProgress);
  return runTenantFlow(
    {
      ...shared,
      extract: step('extract', (i) => extractPosts(ctx, i)),
      popular: step('popular', (i) => computePopular(ctx, i)),
      storePopular: step('storePopular', (i) => storePopular(ctx, i)),
    },
    { tenantId, runId },
  );
}

/** Starting a test the same day for one tenant, in process (`osusume start-test`). */
export async function catchUpTenant(
  ctx: StepContext,
  input: { tenantId: string; version: string },
  onProgress: (p: TenantProgress<CatchUpStep>) => void = () => {},
): Promise<CatchUpReport> {
  const { step, shared } = reportingSteps<CatchUpStep>(ctx, onProgress);
  return runCatchUpFlow(
    { ...shared, prepareCatchUp: step('prepareCatchUp', (i) => prepareCatchUp(ctx, i)) },
    { tenantId: parseTenantId(input.tenantId), version: checkVersion(input.version) },
  );
}
