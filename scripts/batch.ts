/**
 * The local batch: every tenant of the warehouse through extract -> embed -> neighbours -> store
 * -> activate, in process. A failing tenant is reported and does not stop the others.
 *   osusume batch [--tenant ID]... [--run-id ID] [--list]
 */
import cliProgress from 'cli-progress';
import { openContext, type StepContext } from '../activities/context.js';
import { sendAlert } from '../activities/alert.js';
import { recordFailedRuns } from '../activities/publish.js';
import { runTenant, type Step, type TenantReport } from '../activities/pipeline.js';
import { planRun, purgeTenant, readTenants } from '../activities/plan.js';
import {
  runBatchSegment,
  type BatchDeps,
  type BatchInput,
  type BatchReport,
} from '../workflows/batch-flow.js';
import { loadConfig, type Config } from '../core/config.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { log } from '../core/log.js';

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

interface Reporter {
  start(tenantId: string): void;
  update(tenantId: string, step: Step, done?: number, total?: number): void;
  finish(tenantId: string, outcome: string): void;
  stop(): void;
}

/** Bars on a terminal; one line per step elsewhere (CI logs). */
function createReporter(tenantCount: number): Reporter {
  if (!process.stderr.isTTY) {
    let finished = 0;
    const last = new Map<string, Step>();
    return {
      start: () => {},
      update: (t, step) => {
        if (last.get(t) === step) return;
        last.set(t, step);
        process.stderr.write(`  ${t}: ${step}\n`);
      },
      finish: (t, outcome) =>
        process.stderr.write(`[${++finished}/${tenantCount}] ${t}: ${outcome}\n`),
      stop: () => {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: ' {tenant} |{bar}| {step} {value}/{total}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const overall = multi.create(tenantCount, 0, { tenant: 'tenants'.padEnd(12), step: '' });
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    start: (t) =>
      bars.set(t, multi.create(1, 0, { tenant: t.slice(0, 12).padEnd(12), step: 'extract' })),
    update: (t, step, done, total) => {
      const bar = bars.get(t);
      if (total !== undefined) bar?.setTotal(total);
      bar?.update(done ?? 0, { step });
    },
    finish: (t, outcome) => {
      bars.get(t)?.update({ step: outcome });
      bars.get(t)?.stop();
      overall.increment();
    },
    stop: () => multi.stop(),
  };
}

/**
 * The batch workflow's flow, in process: plan (new tenants are picked up, retired ones purged),
 * then every tenant, a failure never stopping the others. `tenants` limits the run to those.
 */
export async function runBatch(
  ctx: StepContext,
  options: { runId: string; tenants?: string[] },
): Promise<BatchResult> {
  const succeeded: TenantReport[] = [];
  const failed: TenantFailure[] = [];
  const plan = await planRun(ctx, { runId: options.runId });
  const tenants =
    options.tenants ??
    (await readTenants(ctx, { tenantsUri: plan.tenantsUri, offset: 0, limit: plan.tenants }));
  const reporter = createReporter(tenants.length);
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
        reporter.finish(tenantId, `done (${report.lists} posts: ${report.algorithms.join(', ')})`);
        return { status: 'succeeded', report };
      } catch (error) {
        failed.push({ tenantId, step, error: errorMessage(error) });
        log.error('tenant failed', { tenantId, step, error: errorMessage(error) });
        reporter.finish(tenantId, `FAILED at ${step}`);
        return { status: 'failed', error: errorMessage(error) };
      }
    },
    purgeTenant: (tenantId) => purgeTenant(ctx, { tenantId }),
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

/** The batch workflow's report, as the main job prints it. */
export function formatReport(report: BatchReport): string {
  const lines = [
    `Run ${report.runId}: ${report.tenants} tenants, ${report.succeeded} succeeded, ${report.failedCount} failed, ${report.skipped} skipped (already ran), ${report.purgedCount} purged`,
    `  ${report.posts} posts, ${report.lists} lists, ${report.tenantSeconds.toFixed(1)} tenant-seconds in ${report.segments} segment(s)`,
  ];
  if (report.slowest)
    lines.push(`  slowest: ${report.slowest.tenantId} (${report.slowest.seconds.toFixed(1)} s)`);
  if (report.retiring > 0)
    lines.push(
      `  ${report.retiring} tenant(s) gone from the warehouse, to be purged after the grace period`,
    );
  for (const p of report.purged) lines.push(`  purged ${p}`);
  for (const f of report.failed) lines.push(`  FAILED ${f.tenantId}: ${f.error}`);
  return lines.join('\n');
}

export function formatSummary(result: BatchResult): string {
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
  const rows = result.succeeded.map((r) => [
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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const out = [
    `Run ${result.runId}: ${result.succeeded.length} tenants succeeded, ${result.failed.length} failed`,
    line(header),
    ...rows.map(line),
  ];
  for (const f of result.failed) out.push(`FAILED ${f.tenantId} at ${f.step}: ${f.error}`);
  return out.join('\n');
}

export interface BatchCommandOptions {
  tenant?: string[];
  runId?: string;
  list?: boolean;
}

function noTenants(config: Config): string {
  const where =
    config.warehouse.kind === 'duckdb'
      ? `the DuckDB warehouse ${config.warehouse.path}`
      : `BigQuery ${config.warehouse.projectId}.${config.warehouse.dataset}.${config.warehouse.postsTable}`;
  return `No tenants in ${where}: load posts first (osusume load --posts FILE), or point the configuration (osusume.config.yaml, OSUSUME_CONFIG) at the right warehouse.`;
}

export async function batchCommand(options: BatchCommandOptions): Promise<void> {
  const ctx = await openContext(loadConfig());
  try {
    const tenants = await ctx.warehouse.listTenants();
    if (options.list) {
      for (const t of tenants) console.log(`${t.tenantId}\t${t.posts} posts`);
      if (tenants.length === 0) console.error(noTenants(ctx.config));
      return;
    }
    // An empty warehouse is a wrong path or a failed export far more often than an empty
    // product: running would purge every served tenant after the grace period.
    if (tenants.length === 0 && !options.tenant) throw new ConfigError(noTenants(ctx.config));
    const result = await runBatch(ctx, {
      runId: options.runId ?? defaultRunId(),
      tenants: options.tenant,
    });
    console.log(formatSummary(result));
    if (result.failed.length > 0) {
      console.log(
        `\n${result.failed.length} tenant(s) failed; their served lists are unchanged. Fix the cause above and run again.`,
      );
      process.exitCode = 1;
    }
  } finally {
    await ctx.close();
  }
}
