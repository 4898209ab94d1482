import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { log } from '../core/log.js';
import type { BatchReport } from '../workflows/batch-flow.js';
import { sendAlert } from './alert.js';
import type { StepContext } from './context.js';
import { embedPosts, type EmbedInput, type EmbedProgress } from './embed.js';
import { extractPosts, type ExtractInput } from './extract.js';
import { computeCoengagement, type CoengagementInput } from './coengagement.js';
import { computeHybrid, type HybridInput } from './hybrid.js';
import { computeFielded, computeLexical, type LexicalInput } from './lexical.js';
import { computeNeighbours, type NeighboursInput } from './neighbours.js';
import { planRun, purgeTenant, readTenants } from './plan.js';
import { computePopular, type PopularInput } from './popular.js';
import {
  activateVersion,
  storeLists,
  storePopular,
  type ActivateInput,
  type StoreListsInput,
  type StorePopularInput,
} from './publish.js';

/** Heartbeats progress and turns a cancellation request into an exception at the next checkpoint. */
function checkpoint(details: unknown): void {
  const context = Context.current();
  context.heartbeat(details);
  if (context.cancellationSignal.aborted) throw new CancelledFailure('activity cancelled');
}

/**
 * The steps as Temporal activities: plain async functions over one StepContext per worker.
 * Their names are part of workflow histories: renaming one is a breaking change.
 */
export function createActivities(getContext: () => Promise<StepContext>) {
  return {
    async planRun(input: { runId: string }) {
      return planRun(await getContext(), input);
    },
    async readTenants(input: { tenantsUri: string; offset: number; limit: number }) {
      return readTenants(await getContext(), input);
    },
    async extract(input: ExtractInput) {
      return extractPosts(await getContext(), input);
    },
    async popular(input: PopularInput) {
      return computePopular(await getContext(), input);
    },
    /** Resumes after a worker crash: the chunks its last heartbeat reported are not embedded again. */
    async embed(input: EmbedInput) {
      const last = Context.current().info.heartbeatDetails as EmbedProgress | undefined;
      if (last) log.info('resuming embedding', { tenantId: input.tenantId, ...last });
      return embedPosts(await getContext(), input, checkpoint);
    },
    async neighbours(input: NeighboursInput) {
      return computeNeighbours(await getContext(), input, (done, total) =>
        checkpoint({ done, total }),
      );
    },
    async lexical(input: LexicalInput) {
      return computeLexical(await getContext(), input);
    },
    async fielded(input: LexicalInput) {
      return computeFielded(await getContext(), input);
    },
    async coengagement(input: CoengagementInput) {
      return computeCoengagement(await getContext(), input);
    },
    async hybrid(input: HybridInput) {
      return computeHybrid(await getContext(), input);
    },
    async storePopular(input: StorePopularInput) {
      return storePopular(await getContext(), input);
    },
    async storeLists(input: StoreListsInput) {
      return storeLists(await getContext(), input);
    },
    async activate(input: ActivateInput) {
      return activateVersion(await getContext(), input);
    },
    async purgeTenant(input: { tenantId: string }) {
      return purgeTenant(await getContext(), input);
    },
    async alert(report: BatchReport) {
      return sendAlert((await getContext()).config, report);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
