/**
 * Commands for a Temporal deployment:
 *   osusume temporal schedule                      create or update the nightly Schedule
 *   osusume temporal run-now [--run-id ID] [--wait [--json]]  start the batch now
 *   osusume temporal run-tenant --tenant ID [--run-id ID] [--wait [--json]]
 *   osusume temporal purge-tenant --tenant ID [--wait]
 * Connection settings come from the environment (see README, "Running on Temporal").
 */
import {
  ActivityFailure,
  Client,
  Connection,
  ScheduleAlreadyRunning,
  WorkflowFailedError,
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  type ScheduleOptions,
} from '@temporalio/client';
import { loadConfig, type Config } from '../core/config.js';
import { causeChain, ConfigError, errorMessage, OsusumeError } from '../core/errors.js';
import { connectTemporal } from '../core/temporal.js';
import type { BatchReport } from '../activities/alert.js';
import { failedTenantsLine, formatReport, formatTenantTable } from './batch.js';
import type { TenantReport } from './in-process.js';
import type { batchWorkflow } from '../workflows/batch.js';
import {
  batchWorkflowId,
  purgeWorkflowId,
  runIdForDate,
  tenantWorkflowId,
} from '../workflows/ids.js';
import type { purgeTenantWorkflow } from '../workflows/purge.js';
import type { tenantWorkflow } from '../workflows/tenant.js';

export function batchOptions(config: Config) {
  return {
    maxConcurrentTenants: config.temporal.maxConcurrentTenants,
    tenantsPerSegment: config.temporal.tenantsPerSegment,
    heartbeatTimeout: config.temporal.heartbeatTimeout,
  };
}

/** The nightly Schedule: overlapping runs are skipped, missed runs caught up within the window. */
export function scheduleOptions(config: Config): ScheduleOptions {
  const { schedule, taskQueue } = config.temporal;
  return {
    scheduleId: schedule.id,
    spec: { cronExpressions: [schedule.cron], timezone: schedule.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: 'batchWorkflow',
      workflowId: 'osusume-batch/scheduled',
      taskQueue,
      args: [{ options: batchOptions(config) }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: schedule.catchupWindow },
  };
}

export async function upsertSchedule(
  client: Client,
  config: Config,
): Promise<'created' | 'updated'> {
  const options = scheduleOptions(config);
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(options.scheduleId).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: { ...previous.policies, ...options.policies },
    }));
    return 'updated';
  }
}

/**
 * A start refused because a workflow with the same id still runs (a run started twice: the ids
 * are deterministic so that it cannot run twice). Temporal's own message names neither the
 * workflow nor what to do; `another` is the option that starts a separate run, if any.
 */
export function alreadyRunning(error: unknown, config: Config, another?: string): unknown {
  if (!(error instanceof WorkflowExecutionAlreadyStartedError)) return error;
  const { address, namespace } = config.temporal;
  return new OsusumeError(
    `Workflow ${error.workflowId} is already running on ${address} (namespace ${namespace}): wait for it to finish (the Temporal UI shows it; osusume runs lists the tenant runs it has recorded)${another ? `, or pass another ${another} for a separate run` : ''}.`,
    { cause: error },
  );
}

/**
 * A workflow's result. A failed workflow is an error naming it, the step that failed and the
 * failure's root cause: Temporal's own message is only "Workflow execution failed".
 */
export async function workflowResult<T>(handle: {
  workflowId: string;
  result(): Promise<T>;
}): Promise<T> {
  try {
    return await handle.result();
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const chain = causeChain(error);
    const step = chain.findLast((e) => e instanceof ActivityFailure)?.activityType;
    const why = errorMessage(chain.at(-1)).replace(/\.$/, '');
    throw new OsusumeError(
      `Workflow ${handle.workflowId} failed${step ? ` at ${step}` : ''}: ${why}. The Temporal UI shows its history; fix the cause and start it again.`,
      { cause: error },
    );
  }
}

/** A tenant workflow's report as `osusume batch` prints a tenant's row. */
function formatTenantRun(report: TenantReport): string {
  if (report.alreadyActivated)
    return `${report.tenantId}: run ${report.version} is already served, so nothing was computed; run with a new --run-id to serve new data.`;
  return [
    `${report.tenantId}: version ${report.version} computed and activated.`,
    ...formatTenantTable([report]),
  ].join('\n');
}

/**
 * A run whose tenants failed exits 1, as `osusume batch` does, so that a script waiting on it
 * sees the failure; the workflow itself completes, its failures being the report's.
 */
function reportFailures(report: BatchReport, json = false): void {
  if (report.failedCount === 0) return;
  (json ? console.error : console.log)(
    failedTenantsLine(
      report.failedCount,
      `Fix the cause the report gives for each failed tenant, then run again: osusume temporal run-now --run-id ${report.runId} --wait (the tenants that succeeded are skipped).`,
    ),
  );
  process.exitCode = 1;
}

export type TemporalAction = 'schedule' | 'run-now' | 'run-tenant' | 'purge-tenant';

export interface TemporalCommandOptions {
  /** Required by run-tenant and purge-tenant. */
  tenant?: string;
  /** Default: today's date (UTC). */
  runId?: string;
  wait?: boolean;
  /** run-now and run-tenant with --wait: the report as JSON instead of formatted. */
  json?: boolean;
}

export async function temporalCommand(
  command: TemporalAction,
  options: TemporalCommandOptions,
): Promise<void> {
  if (options.json && !options.wait)
    throw new ConfigError(
      '--json goes with --wait (without it there is no report to print): add --wait, or leave out --json.',
    );
  const config = loadConfig();
  const connection = await connectTemporal(config, (o) => Connection.connect(o));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const taskQueue = config.temporal.taskQueue;
  const runId = options.runId ?? runIdForDate(new Date());
  const tenant = () => {
    if (!options.tenant) throw new ConfigError(`${command} needs --tenant ID.`);
    return options.tenant;
  };
  try {
    let handle;
    switch (command) {
      case 'schedule':
        console.log(
          `Schedule ${config.temporal.schedule.id} ${await upsertSchedule(client, config)}: "${config.temporal.schedule.cron}" (${config.temporal.schedule.timezone}).`,
        );
        return;
      case 'run-now':
        handle = await client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
          workflowId: batchWorkflowId(runId),
          taskQueue,
          args: [{ runId, options: batchOptions(config) }],
        });
        break;
      case 'run-tenant':
        handle = await client.workflow.start<typeof tenantWorkflow>('tenantWorkflow', {
          workflowId: tenantWorkflowId(runId, tenant()),
          taskQueue,
          args: [{ tenantId: tenant(), runId, heartbeatTimeout: config.temporal.heartbeatTimeout }],
        });
        break;
      case 'purge-tenant':
        handle = await client.workflow.start<typeof purgeTenantWorkflow>('purgeTenantWorkflow', {
          workflowId: purgeWorkflowId(runId, tenant()),
          taskQueue,
          args: [{ tenantId: tenant() }],
        });
        break;
    }
    // With --json, stdout holds the report alone, for a script to parse.
    (options.json ? console.error : console.log)(
      `Started ${handle.workflowId} (run ${handle.firstExecutionRunId}) on ${config.temporal.address}, namespace ${config.temporal.namespace}.`,
    );
    if (options.wait) {
      const result = await workflowResult<unknown>(handle);
      // purgeTenantWorkflow returns nothing; batchWorkflow its report, formatted as the demo
      // prints it (the tenant rows of `osusume batch` stay in the tenant workflows' results).
      if (result === undefined) console.log(`${handle.workflowId} completed.`);
      else if (options.json) console.log(JSON.stringify(result, null, 2));
      else if (command === 'run-now') console.log(formatReport(result as BatchReport));
      else console.log(formatTenantRun(result as TenantReport));
      if (command === 'run-now') reportFailures(result as BatchReport, options.json);
    }
  } catch (error) {
    // purge-tenant has no --run-id: its workflow id is the day's.
    throw alreadyRunning(error, config, command === 'purge-tenant' ? undefined : '--run-id');
  } finally {
    await connection.close();
  }
}
