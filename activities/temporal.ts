import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { log } from '../core/log.js';
import type { LsaProgress } from '../core/model/lsa.js';
import { sendAlert, type BatchReport } from './alert.js';
import { prepareCatchUp } from './catch-up.js';
import type { StepContext } from './context.js';
import { embedPosts, type EmbedInput, type EmbedProgress } from './embed.js';
import { extractPosts } from './extract.js';
import { computeCoengagement } from './coengagement.js';
import { computeHybrid } from './hybrid.js';
import { computeFielded, computeLexical, type LexicalInput } from './lexical.js';
import { computeNeighbours, type NeighboursInput } from './neighbours.js';
import { planRun, purgeTenant, readTenants } from './plan.js';
import { computePopular } from './popular.js';
import { activateVersion, recordFailedRuns, storeLists, storePopular } from './publish.js';

/** Heartbeats progress and turns a cancellation request into an exception at the next checkpoint. */
function checkpoint(details: unknown): void {
  Context.current().heartbeat(details);
  stopIfCancelled();
}

/**
 * Turns a cancellation request into an exception at a paced step's next pause (runPaced), so that
 * its work stops, instead of running on after the attempt failed (keepingAlive heartbeats it).
 */
function stopIfCancelled(): void {
  if (Context.current().cancellationSignal.aborted)
    throw new CancelledFailure('activity cancelled');
}

/** How often a step that reports no progress of its own heartbeats (the SDK throttles sends). */
const KEEPALIVE_MS = 1_000;

/**
 * Rejects when the worker cancels its running steps because it is stopping (SIGTERM, past
 * temporal.shutdownGraceTime): the attempt then fails at once and is retried on another worker,
 * instead of being killed with the process and retried only after its heartbeat timeout. The
 * abandoned work ends with the process. A cancellation the server asks for (the workflow
 * cancelled or reset) still waits for the work, as it did.
 */
function workerShutdown(context: Context): Promise<never> {
  return new Promise((_, reject) => {
    const signal = context.cancellationSignal;
    const onAbort = () => {
      const reason: unknown = signal.reason;
      if (reason instanceof CancelledFailure && reason.message === 'WORKER_SHUTDOWN')
        reject(reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Heartbeats while `work` runs. Without heartbeats Temporal notices a worker that died only when
 * the step's start-to-close timeout passes (15 min to 1 h); with them, after its heartbeat
 * timeout. The heartbeats carry no details: steps that resume from theirs report their own.
 */
async function keepingAlive<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), KEEPALIVE_MS);
  try {
    return await Promise.race([work(), workerShutdown(context)]);
  } finally {
    clearInterval(timer);
  }
}

/**
 * The steps as Temporal activities: plain async functions over one StepContext per worker.
 * Their names are part of workflow histories: renaming one is a breaking change.
 */
export function createActivities(getContext: () => Promise<StepContext>) {
  const withContext =
    <I, O>(step: (ctx: StepContext, input: I) => Promise<O>) =>
    async (input: I) =>
      keepingAlive(async () => step(await getContext(), input));
  return {
    planRun: withContext(planRun),
    prepareCatchUp: withContext(prepareCatchUp),
    readTenants: withContext(readTenants),
    extract: withContext(extractPosts),
    popular: withContext(computePopular),
    /**
     * Resumes after a worker crash: the chunks its last heartbeat reported are not embedded again.
     * A tenant's own model heartbeats `{ training }` while it trains.
     */
    async embed(input: EmbedInput) {
      const last = Context.current().info.heartbeatDetails as
        EmbedProgress | { training: LsaProgress } | undefined;
      if (last) log.info('resuming embedding', { tenantId: input.tenantId, ...last });
      return embedPosts(await getContext(), input, checkpoint, (training) =>
        checkpoint({ training }),
      );
    },
    async neighbours(input: NeighboursInput) {
      return computeNeighbours(await getContext(), input, (done, total) =>
        checkpoint({ done, total }),
      );
    },
    lexical: withContext((ctx, input: LexicalInput) =>
      computeLexical(ctx, input, { onPause: stopIfCancelled }),
    ),
    fielded: withContext((ctx, input: LexicalInput) =>
      computeFielded(ctx, input, { onPause: stopIfCancelled }),
    ),
    coengagement: withContext(computeCoengagement),
    hybrid: withContext(computeHybrid),
    storePopular: withContext(storePopular),
    storeLists: withContext(storeLists),
    activate: withContext(activateVersion),
    purgeTenant: withContext(purgeTenant),
    recordFailedRuns: withContext(recordFailedRuns),
    /** Records the failed tenants the batch did not record already as failed runs, then alerts. */
    async alert(report: BatchReport) {
      const ctx = await getContext();
      await recordFailedRuns(ctx, report);
      return sendAlert(ctx.config, report);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
