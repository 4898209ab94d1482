/**
 * Re-activates a kept version of a tenant's lists (the previous one by default), in one atomic
 * write of the tenant's pointer. The API serves it within api.reloadSeconds.
 *   osusume rollback --tenant ID [--to VERSION]
 *   osusume rollback --all
 */
import { loadConfig } from '../core/config.js';
import { BadDataError, errorMessage } from '../core/errors.js';
import {
  appliesTo,
  isRunning,
  loadExperiments,
  missingAlgorithms,
  notReadyReason,
  type ExperimentsFile,
} from '../core/experiments.js';
import {
  openStore,
  wasActivated,
  type ActiveVersion,
  type RecommendationStore,
} from '../core/store/index.js';
import { openWarehouse } from '../core/warehouse/index.js';
import type { RunRecord, Warehouse } from '../core/warehouse/types.js';
import { requireLocalState } from './files.js';

interface RollbackPlan {
  tenantId: string;
  from: string;
  to: string;
  /** What the target version serves, from its run record. */
  algorithms: string[];
  /** What the version it replaces serves. */
  fromAlgorithms: string[];
  lists: number;
}

/** How many run records of a tenant are searched for the target version's record. */
const RECORDS_SEARCHED = 1000;

async function runRecordOf(
  warehouse: Warehouse,
  tenantId: string,
  version: string,
): Promise<RunRecord | undefined> {
  const records = await warehouse.listRunRecords({ tenantId, limit: RECORDS_SEARCHED });
  return records.find((r) => r.runId === version && !r.failure);
}

/**
 * Checks that `to` (default: the version active before the current one) is kept in the store
 * and has a run record saying what it serves. Throws, changing nothing, when it cannot.
 */
async function planRollback(
  store: RecommendationStore,
  warehouse: Warehouse,
  tenantId: string,
  to?: string,
): Promise<RollbackPlan> {
  const active = await store.getActive(tenantId);
  if (!active)
    throw new BadDataError(
      `Tenant "${tenantId}" has no active version: nothing to roll back (see \`osusume runs\`).`,
    );
  // Only versions that were served once: a crashed run's version may be partial.
  const kept = (await store.listVersions(tenantId))
    .filter((v) => v.version !== active.version && wasActivated(v))
    .map((v) => v.version);
  const target = to ?? active.previous.find((v) => kept.includes(v));
  const options =
    kept.length > 0 ? `kept versions: ${kept.join(', ')}` : 'no other version is kept';
  if (!target)
    throw new BadDataError(
      `Tenant "${tenantId}" has no previous version to roll back to (active: ${active.version}; ${options}): fix the cause and run the batch again, or raise pipeline.keepVersions to keep more versions for rollback.`,
    );
  if (target === active.version)
    throw new BadDataError(
      `Version ${target} is already active for tenant "${tenantId}": nothing to do (${options}).`,
    );
  if (!kept.includes(target))
    throw new BadDataError(
      `Version ${target} of tenant "${tenantId}" is not kept in the store (${options}); pass one of them with --to.`,
    );
  const record = await runRecordOf(warehouse, tenantId, target);
  if (!record)
    throw new BadDataError(
      `Version ${target} of tenant "${tenantId}" has no successful run record, so what it serves is unknown; pick another with --to (${options}).`,
    );
  const algorithms = (record.params.algorithms as string[] | undefined) ?? [];
  return {
    tenantId,
    from: active.version,
    fromAlgorithms: active.algorithms,
    to: target,
    algorithms: algorithms.includes('popular') ? algorithms : [...algorithms, 'popular'],
    lists: record.metrics.lists ?? 0,
  };
}

/**
 * The pointer write: the rolled-back version stays kept as the most recent previous one. The
 * store refuses to bring back a replaced version unless told to: rollback is the one that does.
 * It also refuses when another version became active since the plan (a nightly run finishing).
 */
function applyRollback(
  store: RecommendationStore,
  plan: RollbackPlan,
  keepVersions: number,
): Promise<ActiveVersion> {
  return store.activate(
    plan.tenantId,
    {
      version: plan.to,
      activatedAt: new Date().toISOString(),
      algorithms: plan.algorithms,
      lists: plan.lists,
    },
    keepVersions,
    { reactivate: true, replaces: plan.from },
  );
}

/**
 * Experiments served by the version replaced that the one rolled back to cannot serve: rolling
 * back a start-test version stops its test for the tenant until the next batch computes the lists
 * again and the test resumes, unless the file no longer names it. Said, so that the undo is not
 * taken for final.
 */
function stoppedExperiments(
  experiments: { file: ExperimentsFile; path: string } | undefined,
  plan: RollbackPlan,
): string[] {
  if (!experiments) return [];
  const { file, path } = experiments;
  const target = { version: plan.to, algorithms: plan.algorithms };
  return file.experiments
    .filter((e) => appliesTo(e, plan.tenantId) && isRunning(e))
    .filter(
      (e) =>
        missingAlgorithms(e, file.defaultAlgorithm, { algorithms: plan.fromAlgorithms }).length ===
        0,
    )
    .flatMap((e) => {
      const missing = missingAlgorithms(e, file.defaultAlgorithm, target);
      return missing.length === 0
        ? []
        : [
            `  experiment "${e.id}" stops for ${plan.tenantId}: ${notReadyReason(missing, target)}, so its users get the default. The next batch computes them and the test resumes: to end it, remove it from ${path} (or set its end) before then.`,
          ];
    });
}

export interface RollbackCommandOptions {
  tenant?: string;
  to?: string;
  all?: boolean;
}

export async function rollbackCommand(options: RollbackCommandOptions): Promise<void> {
  if (Boolean(options.all) === Boolean(options.tenant))
    throw new BadDataError('Name one tenant with --tenant ID, or every tenant with --all.');
  if (options.all && options.to)
    throw new BadDataError('--to names a version of one tenant: use it with --tenant.');
  const config = loadConfig();
  requireLocalState(config);
  const store = openStore(config.store);
  const warehouse = await openWarehouse(config.warehouse);
  try {
    const tenants = options.all ? (await store.listTenants()).sort() : [options.tenant!];
    if (tenants.length === 0) throw new BadDataError('No tenant has an active version.');
    // Every tenant is checked before any pointer moves: a rollback of all is all or nothing.
    const plans: RollbackPlan[] = [];
    for (const tenantId of tenants)
      plans.push(
        await planRollback(store, warehouse, tenantId, options.to).catch((error: unknown) => {
          if (!options.all) throw error;
          throw new BadDataError(
            `Nothing was rolled back: ${errorMessage(error)} Roll the others back one at a time with --tenant ID.`,
            { cause: error },
          );
        }),
      );
    // Only to say which tests stop: a file with an error must not stand in the way of a rollback.
    const experiments = (() => {
      try {
        return { file: loadExperiments(config.experimentsFile), path: config.experimentsFile };
      } catch {
        return undefined;
      }
    })();
    for (const plan of plans) {
      await applyRollback(store, plan, config.pipeline.keepVersions);
      console.log(
        `${plan.tenantId}: ${plan.from} -> ${plan.to} (${plan.algorithms.join(', ')}); served within ${config.api.reloadSeconds} s.`,
      );
      for (const line of stoppedExperiments(experiments, plan)) console.log(line);
    }
  } finally {
    await warehouse.close();
    await store.close();
  }
}
