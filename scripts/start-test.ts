/**
 * Starts the tests of the experiments file the same day: for each tenant (named, or every
 * tenant an experiment is not ready for), computes only the lists the file newly needs, in a
 * new version that carries the active lists over, and activates it; locally, or as Temporal
 * workflows with --temporal.
 *   osusume start-test [--tenant ID]... [--temporal [--wait]]
 */
import { Client, Connection } from '@temporalio/client';
import { openContext } from '../activities/context.js';
import { catchUpTenant } from './in-process.js';
import { loadConfig, type Config } from '../core/config.js';
import { BadDataError, ConfigError, errorMessage, plural } from '../core/errors.js';
import { experimentsReadiness, loadExperiments } from '../core/experiments.js';
import type { RecommendationStore } from '../core/store/types.js';
import { connectTemporal } from '../core/temporal.js';
import type { CatchUpReport } from '../workflows/catch-up-flow.js';
import { startTestWorkflowId } from '../workflows/ids.js';
import type { startTestWorkflow } from '../workflows/start-test.js';
import { defaultRunId } from './batch.js';
import { alreadyRunning, workflowResult } from './temporal.js';
import { requireLocalState } from './files.js';
import { createReporter } from './progress.js';

export interface StartTestCommandOptions {
  tenant?: string[];
  temporal?: boolean;
  wait?: boolean;
  /** The new versions' id (default: now, as the local batch names runs). */
  version?: string;
}

/** Tenants an experiment that has not ended names and whose active version lacks its lists. */
async function tenantsNotReady(config: Config, store: RecommendationStore): Promise<string[]> {
  const readiness = await experimentsReadiness(loadExperiments(config.experimentsFile), store);
  return [...new Set(readiness.flatMap((r) => r.notReady.map((t) => t.tenantId)))].sort();
}

function formatCatchUp(r: CatchUpReport): string {
  return r.computed.length > 0
    ? `${r.tenantId}: version ${r.version} active (${r.algorithms.join(', ')}; computed ${r.computed.join(', ')}, carried over from ${r.from}) in ${r.seconds.toFixed(1)} s`
    : `${r.tenantId}: nothing to compute (${r.skipped}); version ${r.version} stays active`;
}

/** How a tenant ended, as its progress line says it (`formatCatchUp` says it in full). */
function progressOutcome(r: CatchUpReport): [outcome: string, detail?: string] {
  return r.computed.length > 0
    ? ['done', `(computed ${r.computed.join(', ')})`]
    : ['nothing to compute'];
}

/** Starts the test locally; returns one report per tenant (failures are thrown after the others ran). */
export async function startTestLocally(
  config: Config,
  tenants: string[] | undefined,
  version: string,
): Promise<CatchUpReport[]> {
  const ctx = await openContext(config);
  try {
    const named = tenants ?? (await tenantsNotReady(config, ctx.store));
    if (named.length === 0) return [];
    const reports: CatchUpReport[] = [];
    const failures: string[] = [];
    // A large tenant takes minutes: without progress, that looks like a hang.
    const reporter = createReporter(named.length);
    for (const tenantId of named) {
      let step = 'start';
      reporter.start(tenantId);
      try {
        const report = await catchUpTenant(ctx, { tenantId, version }, (p) => {
          step = p.step;
          reporter.update(tenantId, p.step, p.done, p.total);
        });
        reports.push(report);
        reporter.finish(tenantId, ...progressOutcome(report));
      } catch (error) {
        failures.push(`${tenantId}: ${errorMessage(error)}`);
        reporter.finish(tenantId, `FAILED at ${step}`);
      }
    }
    // Before the reports: on a terminal the bars are cleared, and would overwrite what follows.
    reporter.stop();
    for (const r of reports) console.log(formatCatchUp(r));
    if (failures.length > 0)
      throw new BadDataError(
        `${plural(failures.length, 'tenant')} could not start; a tenant that cannot start keeps what it serves:\n  ${failures.join('\n  ')}`,
      );
    return reports;
  } finally {
    await ctx.close();
  }
}

async function startOnTemporal(
  config: Config,
  tenants: string[],
  version: string,
  wait: boolean,
): Promise<void> {
  const connection = await connectTemporal(config, (o) => Connection.connect(o));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  try {
    const handles = [];
    for (const tenantId of tenants) {
      const handle = await client.workflow
        .start<typeof startTestWorkflow>('startTestWorkflow', {
          workflowId: startTestWorkflowId(version, tenantId),
          taskQueue: config.temporal.taskQueue,
          args: [{ tenantId, version }],
        })
        .catch((error: unknown) => {
          throw alreadyRunning(error, config, '--version');
        });
      console.log(`Started ${handle.workflowId} on ${config.temporal.address}.`);
      handles.push(handle);
    }
    if (wait)
      for (const handle of handles) console.log(formatCatchUp(await workflowResult(handle)));
  } finally {
    await connection.close();
  }
}

export async function startTestCommand(options: StartTestCommandOptions): Promise<void> {
  if (options.wait && !options.temporal)
    throw new ConfigError(
      '--wait goes with --temporal (in process, start-test always waits): add --temporal, or leave out --wait.',
    );
  const config = loadConfig();
  const version = options.version ?? defaultRunId();
  if (!options.temporal) {
    requireLocalState(config);
    const reports = await startTestLocally(config, options.tenant, version);
    if (reports.length === 0)
      console.log('Every tenant an experiment names is ready: nothing to compute.');
    return;
  }
  if (!options.tenant?.length)
    throw new BadDataError('With --temporal, name the tenants: --tenant ID (repeatable).');
  await startOnTemporal(config, options.tenant, version, Boolean(options.wait));
}
