import {
  ApplicationFailure,
  continueAsNew,
  executeChild,
  ParentClosePolicy,
  patched,
  proxyActivities,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import type { BatchReport } from '../activities/alert.js';
import { causeChain, errorMessage } from '../core/errors.js';
import type { Activities } from '../activities/temporal.js';
import {
  emptyReport,
  runBatchSegment,
  type BatchInput,
  type BatchOptions,
  type TenantOutcome,
} from './batch-flow.js';
import { purgeWorkflowId, runIdForDate, tenantWorkflowId } from './ids.js';
import { alertSteps, quickSteps } from './options.js';
import { purgeTenantWorkflow } from './purge.js';
import { tenantWorkflow } from './tenant.js';

const alerts = proxyActivities<Activities>(alertSteps);

/**
 * Batches begun with this patch write every failed tenant's run record as each segment ends (a
 * recordFailedRuns activity per 100); those begun before it leave that to their alert, which
 * writes the first 100 only. patched() is asked once, when the batch begins, and the answer
 * travels in its report across continue-as-new, so that every run of a batch does the same.
 * Replaying a history recorded before the patch (no marker), patched() is false and the batch
 * schedules what it scheduled then (test/replay.test.ts replays one). Once no such history can
 * replay (past the namespace's retention), drop the old branch and make it deprecatePatch().
 */
const RECORD_EVERY_FAILURE = 'record-every-failure';

/** Set by Temporal on every run a Schedule starts, a caught-up or backfilled one included. */
const SCHEDULED_START = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

/**
 * The run id of a run without one: the date its Schedule meant it for, not the date it started,
 * so that a run caught up after midnight UTC does not take the next night's id (whose tenants
 * would then all be skipped as already run).
 */
function scheduledRunId(): string {
  const info = workflowInfo();
  return runIdForDate(info.typedSearchAttributes.get(SCHEDULED_START) ?? info.startTime);
}

export interface BatchWorkflowInput extends Partial<BatchInput> {
  options?: Partial<BatchOptions>;
}

export const DEFAULT_BATCH_OPTIONS: BatchOptions = {
  maxConcurrentTenants: 20,
  tenantsPerSegment: 1000,
};

async function runTenantChild(
  runId: string,
  tenantId: string,
  heartbeatTimeout: string | undefined,
): Promise<TenantOutcome> {
  try {
    const report = await executeChild(tenantWorkflow, {
      workflowId: tenantWorkflowId(runId, tenantId),
      args: [{ tenantId, runId, heartbeatTimeout }],
      // A tenant that failed today may run again today; one that succeeded may not.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      parentClosePolicy: ParentClosePolicy.TERMINATE,
    });
    return { status: 'succeeded', report };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      return { status: 'skipped', reason: 'already ran for this run id' };
    }
    return { status: 'failed', error: errorMessage(causeChain(error).at(-1)) };
  }
}

/**
 * A failed plan (the warehouse or store unreachable past its retries, an experiments file with an
 * error) fails the batch before any tenant runs; it is alerted on first, as failed tenants are:
 * nothing else would tell the on-call that tonight's lists were not computed.
 */
function alertingPlanFailure(runId: string, planRun: Activities['planRun']): Activities['planRun'] {
  return async (input) => {
    try {
      return await planRun(input);
    } catch (error) {
      const plan = { tenantsUri: '', tenants: 0, retired: [], retiring: 0, invalidTenantIds: 0 };
      const stoppedBy = errorMessage(causeChain(error).at(-1));
      // A failed alert is logged by the worker; the batch still fails with the plan's own error.
      await alerts.alert({ ...emptyReport(runId, plan), stoppedBy }).catch(() => undefined);
      throw error;
    }
  };
}

/**
 * The nightly batch: one child workflow per tenant, bounded concurrency, failures isolated,
 * continue-as-new between segments, purges after the grace period, an alert on failures.
 */
export async function batchWorkflow(input: BatchWorkflowInput = {}): Promise<BatchReport> {
  const runId = input.runId ?? scheduledRunId();
  const options = { ...DEFAULT_BATCH_OPTIONS, ...input.options };
  if (options.maxConcurrentTenants > 2000) {
    throw ApplicationFailure.nonRetryable(
      'maxConcurrentTenants must stay under 2,000 pending children.',
      'ConfigError',
    );
  }
  const planning = proxyActivities<Activities>(
    options.heartbeatTimeout
      ? { ...quickSteps, heartbeatTimeout: options.heartbeatTimeout }
      : quickSteps,
  );
  const result = await runBatchSegment(
    {
      planRun: alertingPlanFailure(runId, planning.planRun),
      readTenants: planning.readTenants,
      runTenant: (tenantId) => runTenantChild(runId, tenantId, options.heartbeatTimeout),
      recordsEveryFailure: () => patched(RECORD_EVERY_FAILURE),
      recordFailures: planning.recordFailedRuns,
      purgeTenant: (tenantId) =>
        executeChild(purgeTenantWorkflow, {
          workflowId: purgeWorkflowId(runId, tenantId),
          args: [{ tenantId }],
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        }),
      alert: alerts.alert,
    },
    { runId, plan: input.plan, cursor: input.cursor, report: input.report },
    options,
  );
  if (!result.done) return continueAsNew<typeof batchWorkflow>({ ...result.next, options });
  return result.report;
}
