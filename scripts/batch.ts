/**
 * The local batch: every tenant of the warehouse through extract -> embed -> neighbours -> store
 * -> activate, in process. A failing tenant is reported and does not stop the others.
 *   osusume batch [--tenant ID]... [--run-id ID] [--list]
 */
import { openContext, type StepContext } from '../activities/context.js';
import { sendAlert, type BatchReport } from '../activities/alert.js';
import { recordFailedRuns } from '../activities/publish.js';
import { configuredModelDir } from '../activities/tenant-model.js';
import { runTenant, type Step, type TenantReport } from './in-process.js';
import { planRun, purgeTenant, readTenants } from '../activities/plan.js';
import { runBatchSegment, type BatchDeps, type BatchInput } from '../workflows/batch-flow.js';
import { readJsonLines } from '../core/artifacts.js';
import { loadConfig } from '../core/config.js';
import { ConfigError, errorMessage, plural } from '../core/errors.js';
import { ID_RULE, tenantIdSchema } from '../core/ids.js';
import { log } from '../core/log.js';
import { missingWarehouse, noTenants, warehouseName } from '../core/warehouse/index.js';
import { openOutputFile, type OutputFile } from './files.js';
import { createReporter, tenantsReporter } from './progress.js';

export interface TenantFailure {
  tenantId: string;
  step: Step | 'start';
  error: string;
}

export interface BatchResult {
  runId: string;
  /** The same report the batch workflow returns. */
  report: BatchReport;
  succeeded: TenantReport[];
  failed: TenantFailure[];
}

export function defaultRunId(now = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * The batch workflow's flow, in process: plan (new tenants are picked up, retired ones purged),
 * then every tenant, a failure never stopping the others. `tenants` limits the run to those.
 */
export async function runBatch(
  ctx: StepContext,
  options: {
    runId: string;
    tenants?: string[];
    /** 'steps' (default): each tenant's steps; 'tenants': only how many are done. */
    progress?: 'steps' | 'tenants';
  },
): Promise<BatchResult> {
  const succeeded: TenantReport[] = [];
  const failed: TenantFailure[] = [];
  const plan = await planRun(ctx, { runId: options.runId });
  const tenants =
    options.tenants ??
    (await readTenants(ctx, { tenantsUri: plan.tenantsUri, offset: 0, limit: plan.tenants }));
  const reporter =
    options.progress === 'tenants'
      ? tenantsReporter(tenants.length)
      : createReporter(tenants.length);
  const deps: BatchDeps = {
    planRun: async () =>
      options.tenants ? { ...plan, tenants: tenants.length, retired: [] } : plan,
    readTenants: async ({ offset, limit }) => tenants.slice(offset, offset + limit),
    runTenant: async (tenantId) => {
      let step: Step | 'start' = 'start';
      reporter.start(tenantId);
      try {
        const report = await runTenant(ctx, { tenantId, runId: options.runId }, (p) => {
          step = p.step;
          reporter.update(tenantId, p.step, p.done, p.total);
        });
        if (report.alreadyActivated) {
          reporter.finish(tenantId, 'unchanged (this run id is already served)');
          return { status: 'skipped', reason: 'already activated for this run id' };
        }
        succeeded.push(report);
        reporter.finish(
          tenantId,
          'done',
          `(${report.lists} posts: ${report.algorithms.join(', ')})`,
        );
        return { status: 'succeeded', report };
      } catch (error) {
        failed.push({ tenantId, step, error: errorMessage(error) });
        log.error('tenant failed', { tenantId, step, error: errorMessage(error) });
        reporter.finish(tenantId, `FAILED at ${step}`);
        return { status: 'failed', error: errorMessage(error) };
      }
    },
    purgeTenant: (tenantId) => purgeTenant(ctx, { tenantId }),
    recordsEveryFailure: () => true,
    recordFailures: (failures) => recordFailedRuns(ctx, failures),
    alert: async (report) => {
      await recordFailedRuns(ctx, report);
      return sendAlert(ctx.config, report);
    },
  };
  const batchOptions = {
    maxConcurrentTenants: ctx.config.pipeline.concurrency,
    tenantsPerSegment: ctx.config.temporal.tenantsPerSegment,
  };
  let input: BatchInput = { runId: options.runId };
  for (;;) {
    const segment = await runBatchSegment(deps, input, batchOptions);
    if (segment.done) {
      reporter.stop();
      succeeded.sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1));
      return { runId: options.runId, report: segment.report, succeeded, failed };
    }
    input = segment.next;
  }
}

function formatSkipped(report: TenantReport): string {
  const entries = Object.entries(report.extract.skipped);
  return entries.length === 0 ? '0' : entries.map(([reason, n]) => `${n} ${reason}`).join(', ');
}

/** Tenants the plan could not run: nothing of theirs is served until their ids are fixed. */
function invalidTenantIdsLine(report: BatchReport): string {
  return `NOT RUN: ${plural(report.invalidTenantIds, 'invalid tenant id')} in the warehouse (ids are ${ID_RULE}); the log names each one to fix there.`;
}

/**
 * Which model embedded the run's posts: a model.dir folder that holds no model (say, a models
 * bucket not filled yet) shows here as per-tenant models, not only in the lists' quality.
 */
function embeddedByLine(report: BatchReport): string {
  const by = report.embeddedBy;
  if (!by) return 'embedded: no tenant (none ran, or no list it serves reads embeddings)';
  const models = Object.entries(by.pretrained).map(
    ([dir, n]) => `the pretrained model in ${dir} (${plural(n, 'tenant')})`,
  );
  if (by.perTenant > 0)
    models.push(
      `per-tenant models, each trained on its tenant's posts (${plural(by.perTenant, 'tenant')})`,
    );
  return `embedded with ${models.join(' and ')}`;
}

/** The batch workflow's report, as the demo and `temporal run-now --wait` print it. */
export function formatReport(report: BatchReport): string {
  const lines = [
    `Run ${report.runId}: ${plural(report.tenants, 'tenant')}, ${report.succeeded} succeeded, ${report.failedCount} failed, ${report.skipped} skipped (already ran), ${report.purgedCount} purged`,
    `  ${plural(report.posts, 'post')}, ${plural(report.lists, 'list')}, ${report.tenantSeconds.toFixed(1)} tenant-seconds in ${plural(report.segments, 'segment')}`,
    `  ${embeddedByLine(report)}`,
  ];
  if (report.slowest)
    lines.push(`  slowest: ${report.slowest.tenantId} (${report.slowest.seconds.toFixed(1)} s)`);
  if (report.retiring > 0)
    lines.push(
      `  ${plural(report.retiring, 'tenant')} gone from the warehouse, to be purged after the grace period`,
    );
  if (report.invalidTenantIds > 0) lines.push(`  ${invalidTenantIdsLine(report)}`);
  for (const p of report.purged) lines.push(`  purged ${p}`);
  for (const f of report.failed) lines.push(`  FAILED ${f.tenantId}: ${f.error}`);
  return lines.join('\n');
}

/** The closing line of a run in which tenants failed, then what to do about it. */
export function failedTenantsLine(failed: number, todo: string): string {
  return `\n${plural(failed, 'tenant')} failed; a failed tenant's served lists are unchanged. ${todo}`;
}

/** One row per tenant run (the columns SUMMARY_LEGEND explains), with its header and legend. */
export function formatTenantTable(reports: TenantReport[]): string[] {
  const header = [
    'tenant',
    'algorithms',
    'posts',
    'lists',
    'embedded',
    'reused',
    'search',
    'dups',
    'skipped',
    'seconds',
  ];
  const rows = reports.map((r) => [
    r.tenantId,
    r.algorithms.join('+'),
    String(r.extract.posts),
    String(r.lists),
    String(r.embedded?.computed ?? '-'),
    String(r.embedded?.reused ?? '-'),
    r.neighbourSearch ?? '-',
    String(r.duplicates),
    formatSkipped(r),
    String(
      Object.values(r.seconds)
        .reduce((a, b) => a + b, 0)
        .toFixed(1),
    ),
  ]);
  if (rows.length === 0) return [];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), ...rows.map(line), SUMMARY_LEGEND];
}

export function formatSummary(result: BatchResult): string {
  // A run id that a tenant already serves changes nothing for it: said here, since the progress
  // lines that also say it are cleared on a terminal.
  const unchanged = result.report.skipped;
  const out = [
    `Run ${result.runId}: ${plural(result.succeeded.length, 'tenant')} succeeded, ${result.failed.length} failed` +
      (unchanged > 0
        ? `, ${unchanged} unchanged (this run id is already served: run with a new run id to serve new data)`
        : ''),
    // Said once, not per row: one configuration embeds every tenant of a local run.
    embeddedByLine(result.report),
    ...formatTenantTable(result.succeeded),
  ];
  if (result.report.invalidTenantIds > 0) out.push(invalidTenantIdsLine(result.report));
  for (const f of result.failed) out.push(`FAILED ${f.tenantId} at ${f.step}: ${f.error}`);
  return out.join('\n');
}

const SUMMARY_LEGEND = `
  posts     live posts in the tenant's snapshot       lists     posts given a related list
  embedded  vectors computed this run                 reused    vectors kept from the last run (same text)
  search    neighbour search: exact, or ivf (faiss)   dups      exact copies of an older post, never recommended
  skipped   rows left out, by reason (--skipped FILE lists each)
  seconds   time of all the tenant's steps            '-'       not computed: no embedding algorithm is served`;

/** Writes every skipped row of the run (tenantId, postId, reason, detail) to `file`, as JSON lines. */
async function writeSkipped(
  ctx: StepContext,
  result: BatchResult,
  file: OutputFile,
): Promise<number> {
  let rows = 0;
  for (const report of result.succeeded) {
    if (!report.extract.skippedUri) continue;
    for (const row of await readJsonLines<object>(ctx.artifacts, report.extract.skippedUri)) {
      file.write(JSON.stringify({ tenantId: report.tenantId, ...row }) + '\n');
      rows += 1;
    }
  }
  return rows;
}

export interface BatchCommandOptions {
  tenant?: string[];
  runId?: string;
  list?: boolean;
  /** Where to list every skipped row (JSON lines). */
  skipped?: string;
}

/**
 * A tenant of `batch --list`. One whose id is not valid is listed as never run: it appeared
 * like any other, and `batch --tenant` with it was refused for its id.
 */
function listLine(t: { tenantId: string; posts: number }): string {
  const posts = plural(t.posts, 'post');
  return tenantIdSchema.safeParse(t.tenantId).success
    ? `${t.tenantId}\t${posts}`
    : `${JSON.stringify(t.tenantId)}\t${posts}\tnever run: not a valid tenant id (${ID_RULE}); fix it in the warehouse`;
}

export async function batchCommand(options: BatchCommandOptions): Promise<void> {
  const config = loadConfig();
  const missing = missingWarehouse(config.warehouse);
  if (missing) throw new ConfigError(missing);
  // Checked before anything runs: a model.dir that is not there fails every tenant that embeds.
  configuredModelDir(config.model);
  const ctx = await openContext(config);
  let skipped: OutputFile | undefined;
  try {
    const tenants = await ctx.warehouse.listTenants();
    // An empty warehouse is a wrong path or a failed export far more often than an empty
    // product: running would purge every served tenant after the grace period. --list fails
    // too, as over a missing warehouse, so that a script sees it.
    if (tenants.length === 0) throw new ConfigError(noTenants(config.warehouse));
    if (options.list) {
      for (const t of tenants) console.log(listLine(t));
      return;
    }
    // A mistyped tenant would run, fail, be recorded as a failed run and raise the alert.
    const known = new Set(tenants.map((t) => t.tenantId));
    const unknown = (options.tenant ?? []).filter((t) => !known.has(t));
    if (unknown.length > 0)
      throw new ConfigError(
        `${unknown.map((t) => JSON.stringify(t)).join(', ')} ${unknown.length === 1 ? 'is not a tenant' : 'are not tenants'} of ${warehouseName(config.warehouse)}: check the spelling against its tenants (osusume batch --list); nothing was run.`,
      );
    // Opened before the run: a path it cannot write must not cost a whole run, then fail.
    if (options.skipped) skipped = await openOutputFile(options.skipped, '--skipped');
    const result = await runBatch(ctx, {
      runId: options.runId ?? defaultRunId(),
      tenants: options.tenant,
    });
    console.log(formatSummary(result));
    if (skipped)
      console.log(
        `${plural(await writeSkipped(ctx, result, skipped), 'skipped row')} listed in ${options.skipped}.`,
      );
    if (result.failed.length > 0) {
      console.log(failedTenantsLine(result.failed.length, 'Fix the cause above and run again.'));
      process.exitCode = 1;
    }
  } finally {
    await ctx.close();
    await skipped?.close();
  }
}
