/**
 * The nightly batch, written once: plan the run, purge retired tenants, then run every tenant with
 * bounded concurrency, a segment at a time. The batch workflow runs it with child workflows and
 * continues as new between segments (history stays small at 10,000 tenants); the local batch runs
 * it in process. Deterministic: no I/O of its own, type-only imports.
 */
import type { BatchReport } from '../activities/alert.js';
import type { RunPlan } from '../activities/plan.js';
import type { TenantReport } from './tenant-flow.js';

export type TenantOutcome =
  | { status: 'succeeded'; report: TenantReport }
  | { status: 'failed'; error: string }
  | { status: 'skipped'; reason: string };

export interface BatchDeps {
  planRun(input: { runId: string }): Promise<RunPlan>;
  readTenants(input: { tenantsUri: string; offset: number; limit: number }): Promise<string[]>;
  /** Runs one tenant; reports failure as an outcome instead of throwing. */
  runTenant(tenantId: string): Promise<TenantOutcome>;
  purgeTenant(tenantId: string): Promise<void>;
  /**
   * Whether this batch writes every failed tenant's run record as its segment ends; asked once,
   * when the batch begins, and kept in its report. A batch that does not (begun by older code,
   * workflows/batch.ts) leaves its alert to write those of the failures its report lists.
   */
  recordsEveryFailure(): boolean;
  /** Writes failed tenants' run records; called with at most MAX_LISTED at a time. */
  recordFailures(input: FailedRuns): Promise<unknown>;
  alert(report: BatchReport): Promise<unknown>;
}

export interface FailedRuns {
  runId: string;
  failed: BatchReport['failed'];
}

export interface BatchOptions {
  maxConcurrentTenants: number;
  tenantsPerSegment: number;
  /** Passed to every tenant (TenantRunInput.heartbeatTimeout). */
  heartbeatTimeout?: string;
}

export interface BatchInput {
  runId: string;
  plan?: RunPlan;
  cursor?: number;
  report?: BatchReport;
}

export type SegmentResult = { done: true; report: BatchReport } | { done: false; next: BatchInput };

/** How many failed and purged tenants a report names, and failed runs one call records. */
const MAX_LISTED = 100;

export function emptyReport(
  runId: string,
  plan: RunPlan,
  recordsEveryFailure = false,
): BatchReport {
  return {
    runId,
    tenants: plan.tenants,
    succeeded: 0,
    skipped: 0,
    failedCount: 0,
    failed: [],
    purgedCount: 0,
    purged: [],
    retiring: plan.retiring,
    invalidTenantIds: plan.invalidTenantIds,
    posts: 0,
    lists: 0,
    tenantSeconds: 0,
    segments: 0,
    // Last, so that a report printed as JSON begins with its run id.
    ...(recordsEveryFailure ? { failuresRecorded: true as const } : {}),
  };
}

/** Runs `work` over `items` with at most `limit` in flight; results keep the input order. */
async function boundedMap<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Counts `outcome` in `report`; a failure is also added to `failures` (the segment's own). */
function record(
  report: BatchReport,
  failures: BatchReport['failed'],
  tenantId: string,
  outcome: TenantOutcome,
): void {
  if (outcome.status === 'skipped') {
    report.skipped += 1;
  } else if (outcome.status === 'failed') {
    const failure = { tenantId, error: outcome.error };
    report.failedCount += 1;
    if (report.failed.length < MAX_LISTED) report.failed.push(failure);
    failures.push(failure);
  } else {
    const r = outcome.report;
    const seconds = Object.values(r.seconds).reduce((a, b) => a + (b ?? 0), 0);
    report.succeeded += 1;
    report.posts += r.extract.posts;
    report.lists += r.lists;
    report.tenantSeconds += seconds;
    if (!report.slowest || seconds > report.slowest.seconds) report.slowest = { tenantId, seconds };
    if (r.embedded) {
      // Created on first use: a report carried over continue-as-new by older code lacks it.
      const by = (report.embeddedBy ??= { pretrained: {}, perTenant: 0 });
      const dir = r.embedded.modelDir;
      if (dir) by.pretrained[dir] = (by.pretrained[dir] ?? 0) + 1;
      else by.perTenant += 1;
    }
  }
}

export async function runBatchSegment(
  deps: BatchDeps,
  input: BatchInput,
  options: BatchOptions,
): Promise<SegmentResult> {
  const plan = input.plan ?? (await deps.planRun({ runId: input.runId }));
  const report = input.report ?? emptyReport(input.runId, plan, deps.recordsEveryFailure());
  const failures: BatchReport['failed'] = [];
  if (!input.plan) {
    await boundedMap(plan.retired, options.maxConcurrentTenants, async (tenantId) => {
      try {
        await deps.purgeTenant(tenantId);
        report.purgedCount += 1;
        if (report.purged.length < MAX_LISTED) report.purged.push(tenantId);
      } catch (error) {
        record(report, failures, tenantId, {
          status: 'failed',
          error: `purge failed: ${(error as Error).message}`,
        });
      }
    });
  }
  const cursor = input.cursor ?? 0;
  const tenants = await deps.readTenants({
    tenantsUri: plan.tenantsUri,
    offset: cursor,
    limit: options.tenantsPerSegment,
  });
  const outcomes = await boundedMap(tenants, options.maxConcurrentTenants, (t) =>
    deps.runTenant(t),
  );
  outcomes.forEach((outcome, i) => record(report, failures, tenants[i]!, outcome));
  report.segments += 1;
  if (report.failuresRecorded) {
    for (let i = 0; i < failures.length; i += MAX_LISTED) {
      await deps.recordFailures({ runId: input.runId, failed: failures.slice(i, i + MAX_LISTED) });
    }
  }

  const nextCursor = cursor + tenants.length;
  if (tenants.length > 0 && nextCursor < plan.tenants) {
    return { done: false, next: { runId: input.runId, plan, cursor: nextCursor, report } };
  }
  if (report.failedCount > 0) await deps.alert(report);
  return { done: true, report };
}
