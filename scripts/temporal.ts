/**
 * Commands for a Temporal deployment:
 *   npm run temporal -- schedule                      create or update the nightly Schedule
 *   npm run temporal -- run-now [--run-id ID] [--wait]  start the batch now
 *   npm run temporal -- run-tenant --tenant ID [--run-id ID] [--wait]
 *   npm run temporal -- purge-tenant --tenant ID [--wait]
 * Connection settings come from the environment (see README, "Running on Temporal").
 */
import { parseArgs } from 'node:util';
import {
  Client,
  Connection,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type ScheduleOptions,
} from '@temporalio/client';
import { loadConfig, type Config } from '../core/config.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { parseTenantId } from '../core/ids.js';
import { checkVersion } from '../core/store/types.js';
import { temporalConnectionOptions } from '../core/temporal.js';
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

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      'run-id': { type: 'string' },
      wait: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  const config = loadConfig();
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const taskQueue = config.temporal.taskQueue;
  const runId = checkVersion(values['run-id'] ?? runIdForDate(new Date()));
  const tenant = () => {
    if (!values.tenant) throw new ConfigError(`${command} needs --tenant ID.`);
    return parseTenantId(values.tenant);
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
          args: [{ tenantId: tenant(), runId }],
        });
        break;
      case 'purge-tenant':
        handle = await client.workflow.start<typeof purgeTenantWorkflow>('purgeTenantWorkflow', {
          workflowId: purgeWorkflowId(runId, tenant()),
          taskQueue,
          args: [{ tenantId: tenant() }],
        });
        break;
      default:
        throw new ConfigError(
          `Unknown command ${JSON.stringify(command)}: use schedule, run-now, run-tenant or purge-tenant.`,
        );
    }
    console.log(
      `Started ${handle.workflowId} (run ${handle.firstExecutionRunId}) on ${config.temporal.address}, namespace ${config.temporal.namespace}.`,
    );
    if (values.wait) console.log(JSON.stringify(await handle.result(), null, 2));
  } finally {
    await connection.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(`temporal: ${errorMessage(error)}`);
    process.exit(1);
  });
}
