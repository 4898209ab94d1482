/**
 * osusume bench orchestration (npm run bench:orchestration) — the batch for 1,000 small generated
 * tenants (BENCH_TENANTS; BENCH_POSTS posts each) on a real Temporal dev server with the real
 * worker (batchWorkflow, one tenantWorkflow child per tenant), against its peer: the same flow and
 * steps in process (the local batch, as many tenants at once as the workflow's
 * maxConcurrentTenants). Runs alternate (BENCH_ROUNDS of each, after one unmeasured warm-up run in
 * process that does the tenants' first full extraction). Prints tenants per minute, the most
 * pending children seen on the batch workflow (polled), and events per workflow history.
 */
import path from 'node:path';
import { openContext } from '../activities/context.js';
import { parseConfig, type Config } from '../core/config.js';
import { runBatch } from '../scripts/batch.js';
import { startDevServer, type DevServer } from '../scripts/temporal-dev-server.js';
import { createWorker, WORKFLOWS_PATH } from '../scripts/worker.js';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  type WorkflowBundle,
} from '@temporalio/worker';
import type { batchWorkflow } from '../workflows/batch.js';
import { DEFAULT_BATCH_OPTIONS } from '../workflows/batch.js';
import { batchWorkflowId, tenantWorkflowId } from '../workflows/ids.js';
import { loadPosts, tempDir, topicPosts } from '../scripts/fixtures.js';
import { median } from '../core/stats.js';
import { benchEnv, KNOBS } from './env.js';

/** Tenant histories read for the events-per-history figure (evenly spaced over the tenants). */
const SAMPLED_HISTORIES = 50;

interface TemporalRun {
  seconds: number;
  maxPendingChildren: number;
  batchRuns: { events: number; historyBytes: number }[];
  tenantEvents: number[];
}

const minutes = (seconds: number) => seconds / 60;
async function runInProcess(config: Config, runId: string): Promise<number> {
  const ctx = await openContext(config);
  try {
    const start = performance.now();
    const result = await runBatch(ctx, { runId });
    if (result.failed.length > 0)
      throw new Error(`in process: ${result.failed.length} tenants failed`);
    return (performance.now() - start) / 1000;
  } finally {
    await ctx.close();
  }
}

async function historyEvents(server: DevServer, workflowId: string, runId?: string) {
  return (await server.env.client.workflow.getHandle(workflowId, runId).fetchHistory()).events!
    .length;
}

async function runOnTemporal(
  server: DevServer,
  config: Config,
  bundle: WorkflowBundle,
  runId: string,
  tenantIds: string[],
): Promise<TemporalRun> {
  const client = server.env.client;
  const workflowId = batchWorkflowId(runId);
  const { worker, close } = await createWorker(config, server.env.nativeConnection, {
    workflowBundle: bundle,
  });
  let maxPendingChildren = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      try {
        const description = await client.workflow.getHandle(workflowId).describe();
        maxPendingChildren = Math.max(
          maxPendingChildren,
          description.raw.pendingChildren?.length ?? 0,
        );
      } catch {
        // not started yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const start = performance.now();
  try {
    const report = await worker.runUntil(
      client.workflow.execute<typeof batchWorkflow>('batchWorkflow', {
        workflowId,
        taskQueue: config.temporal.taskQueue,
        args: [{ runId, options: { maxConcurrentTenants: config.temporal.maxConcurrentTenants } }],
      }),
    );
    if (report.succeeded !== tenantIds.length)
      throw new Error(`on Temporal: ${JSON.stringify(report)}`);
  } finally {
    polling = false;
    await poll;
    await close();
  }
  const seconds = (performance.now() - start) / 1000;

  const batchRuns: TemporalRun['batchRuns'] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const description = await client.workflow.getHandle(workflowId, run.runId).describe();
    batchRuns.push({
      events: await historyEvents(server, workflowId, run.runId),
      historyBytes: Number(description.raw.workflowExecutionInfo?.historySizeBytes ?? 0),
    });
  }
  const step = Math.max(1, Math.floor(tenantIds.length / SAMPLED_HISTORIES));
  const tenantEvents: number[] = [];
  for (let i = 0; i < tenantIds.length; i += step) {
    tenantEvents.push(await historyEvents(server, tenantWorkflowId(runId, tenantIds[i]!)));
  }
  return { seconds, maxPendingChildren, batchRuns, tenantEvents };
}

export async function run(): Promise<void> {
  const { tenants, posts, rounds } = benchEnv(KNOBS.orchestration);
  const tenantIds = Array.from({ length: tenants }, (_, i) => `t${String(i).padStart(4, '0')}`);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const tmp = tempDir('osusume-bench-orchestration-');
  const maxConcurrentTenants = DEFAULT_BATCH_OPTIONS.maxConcurrentTenants;
  const config = parseConfig(
    {
      warehouse: { kind: 'duckdb', path: 'warehouse.duckdb' },
      store: { kind: 'lmdb', path: 'store.lmdb' },
      artifactsDir: 'artifacts',
      experimentsFile: path.join(tmp.dir, 'experiments.yaml'),
      pipeline: { minPostsForEmbedding: 5, concurrency: maxConcurrentTenants },
      temporal: { taskQueue: 'osusume-bench', maxConcurrentTenants },
    },
    tmp.dir,
  );
  const server = await startDevServer();
  try {
    await loadPosts(
      config,
      tenantIds.flatMap((t, i) => topicPosts(t, posts, i + 1)),
    );
    const bundle = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      logger: new DefaultLogger('WARN'),
    });
    const warmUp = await runInProcess(config, 'warm-up');
    console.log(`warm-up in process (first extraction): ${warmUp.toFixed(1)} s`);

    const local: number[] = [];
    const temporal: TemporalRun[] = [];
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? ['temporal', 'local'] : ['local', 'temporal'];
      for (const which of order) {
        if (which === 'local') {
          const seconds = await runInProcess(config, `local-${round}`);
          local.push(seconds);
          console.log(
            `round ${round} in process: ${(tenants / minutes(seconds)).toFixed(0)} tenants/min`,
          );
        } else {
          const result = await runOnTemporal(
            server,
            config,
            bundle,
            `temporal-${round}`,
            tenantIds,
          );
          temporal.push(result);
          console.log(
            `round ${round} on Temporal: ${(tenants / minutes(result.seconds)).toFixed(0)} tenants/min, ` +
              `max pending children ${result.maxPendingChildren}, batch history ${result.batchRuns.map((r) => `${r.events} events / ${(r.historyBytes / 1024).toFixed(0)} KiB`).join(' + ')}, ` +
              `tenant history ${Math.min(...result.tenantEvents)}–${Math.max(...result.tenantEvents)} events`,
          );
        }
      }
    }
    const temporalRate = temporal.map((r) => tenants / minutes(r.seconds));
    const localRate = local.map((s) => tenants / minutes(s));
    const ratios = temporalRate.map((rate, i) => rate / localRate[i]!);
    console.log(
      JSON.stringify({
        bench: 'orchestration',
        tenants,
        postsPerTenant: posts,
        maxConcurrentTenants,
        maxConcurrentActivities: config.temporal.maxConcurrentActivities,
        temporalTenantsPerMinute: temporalRate.map((r) => Math.round(r)),
        inProcessTenantsPerMinute: localRate.map((r) => Math.round(r)),
        ratio: ratios.map((r) => Number(r.toFixed(2))),
        maxPendingChildren: Math.max(...temporal.map((r) => r.maxPendingChildren)),
        batchHistoryEvents: temporal.map((r) => r.batchRuns.map((b) => b.events)),
        batchHistoryKiB: temporal.map((r) =>
          r.batchRuns.map((b) => Math.round(b.historyBytes / 1024)),
        ),
        tenantHistoryEvents: {
          min: Math.min(...temporal.flatMap((r) => r.tenantEvents)),
          median: median(temporal.flatMap((r) => r.tenantEvents)),
          max: Math.max(...temporal.flatMap((r) => r.tenantEvents)),
        },
      }),
    );
  } finally {
    await server.teardown();
    tmp.cleanup();
  }
}
