import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { parseConfig, type Config } from '../../core/config.js';
import {
  startDevServer,
  type DevServer,
  type DevServerOptions,
} from '../../scripts/temporal-dev-server.js';
import { createWorker, spawnWorker, type WorkerExtras } from '../../scripts/worker.js';

export { spawnWorker } from '../../scripts/worker.js';
import type { BatchWorkflowInput, batchWorkflow } from '../../workflows/batch.js';
import { batchWorkflowId, tenantWorkflowId } from '../../workflows/ids.js';
import type { TenantReport } from '../../workflows/tenant-flow.js';
import { afterAll, expect } from 'vitest';
import { loadPosts, tempDir, topicPosts, variedDemoPosts, writeTestBertModel } from './fixtures.js';

/**
 * A Temporal dev server for a test file, or null where none can be started (no Temporal CLI:
 * `npm run setup` builds one): the tests then skip and say so. With CI=true that is an error.
 */
export async function devServerOrSkip(
  what: string,
  options: DevServerOptions = {},
): Promise<DevServer | null> {
  try {
    return await startDevServer(options);
  } catch (error) {
    if (process.env.CI) throw error;
    console.warn(`SKIPPED: ${what}: ${(error as Error).message}`);
    return null;
  }
}

/** Runs the batch workflow for `runId` with an in-process worker that stops (and closes) after. */
export async function runBatchWorkflow(
  server: DevServer,
  config: Config,
  input: BatchWorkflowInput & { runId: string },
  extras: WorkerExtras = {},
) {
  const { worker, close } = await createWorker(config, server.env.nativeConnection, extras);
  try {
    return await worker.runUntil(
      server.env.client.workflow.execute<typeof batchWorkflow>('batchWorkflow', {
        workflowId: batchWorkflowId(input.runId),
        taskQueue: config.temporal.taskQueue,
        args: [input],
      }),
    );
  } finally {
    await close();
  }
}

export async function describeWorkflow(
  server: DevServer,
  workflowId: string,
): Promise<WorkflowExecutionDescription> {
  return server.env.client.workflow.getHandle(workflowId).describe();
}

/** A configuration rooted in `dir`, raw: what a worker process reads from OSUSUME_CONFIG_YAML. */
export function rawWorkerConfig(
  dir: string,
  taskQueue: string,
  extra: Record<string, unknown> = {},
) {
  return {
    warehouse: { kind: 'duckdb', path: path.join(dir, 'warehouse.duckdb') },
    store: { kind: 'lmdb', path: path.join(dir, 'store.lmdb') },
    artifactsDir: path.join(dir, 'artifacts'),
    experimentsFile: path.join(dir, 'experiments.yaml'),
    pipeline: { minPostsForEmbedding: 5, purgeGraceDays: 0 },
    temporal: { taskQueue },
    ...extra,
  };
}

/**
 * A worker configuration rooted in `dir` whose one tenant, `big`, embeds for long enough to be
 * interrupted: `count` posts and a BERT-shaped test model `hidden` wide. The worker process runs
 * in the checkout: the model folder is named, not the default.
 */
export async function slowEmbeddingTenant(
  dir: string,
  taskQueue: string,
  shape: { count: number; hidden: number },
) {
  const raw = rawWorkerConfig(dir, taskQueue, {
    experimentsFile: path.join(dir, 'experiments.yaml'),
    model: { dir: path.join(dir, 'model') },
  });
  writeFileSync(raw.experimentsFile, 'defaultAlgorithm: embedding\nexperiments: []\n');
  const config = parseConfig(raw, dir);
  const posts = topicPosts('big', shape.count, 9);
  writeTestBertModel(
    config.model.dir,
    posts.slice(0, 500).map((p) => `${p.title} ${p.body}`),
    { hidden: shape.hidden },
  );
  await loadPosts(config, posts);
  return { raw, config, posts };
}

/** Waits (two minutes at most) until `count` embedding checkpoints of `runId` are on disk. */
export async function embedChunksWritten(
  config: Config,
  runId: string,
  count: number,
): Promise<number> {
  const chunksDir = path.join(config.artifactsDir, 'runs', runId);
  const written = () =>
    existsSync(chunksDir)
      ? readdirSync(chunksDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
          /embed-chunks\/\d+\.bin$/.test(f),
        ).length
      : 0;
  for (let i = 0; i < 12_000 && written() < count; i++) await new Promise((r) => setTimeout(r, 10));
  return written();
}

/**
 * A worker configuration in its own folder `dir/name` whose tenant `big` has `count` posts of
 * real text, computing the lists `experiments` (experiments.yaml) names.
 */
export async function largeTenant(
  root: string,
  name: string,
  count: number,
  { experiments, temporal = {} }: { experiments: string; temporal?: Record<string, string> },
) {
  const dir = path.join(root, name);
  mkdirSync(dir);
  const raw = rawWorkerConfig(dir, `osusume-${name}`, {
    temporal: { taskQueue: `osusume-${name}`, ...temporal },
  });
  writeFileSync(raw.experimentsFile, experiments);
  const config = parseConfig(raw, dir);
  const posts = variedDemoPosts('big', count);
  await loadPosts(config, posts);
  return { raw, config, posts };
}

/**
 * Rejects, with the failure the server recorded, once one of the `activities` steps is on a second
 * attempt; never settles otherwise. Without it a step that times out on every attempt would keep
 * the test waiting through five attempts and their backoff.
 */
export async function stepRetried(
  handle: WorkflowHandle,
  activities: string[],
  stop: AbortSignal,
): Promise<never> {
  while (!stop.aborted) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const step = pending.find((a) => activities.includes(a.activityType?.name ?? ''));
    if (step && (step.attempt ?? 1) > 1) {
      const timeout = step.lastFailure?.timeoutFailureInfo?.timeoutType;
      throw new Error(
        `${step.activityType?.name} is on attempt ${step.attempt}; the last one failed: ` +
          `${step.lastFailure?.message}` +
          (timeout ? ` (${temporal.api.enums.v1.TimeoutType[timeout]})` : ''),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return new Promise<never>(() => {});
}

/**
 * How the history says step `activity` ran: the heartbeat timeout it was scheduled with (seconds),
 * and its attempt that started, with the failure of the one before if any.
 */
export async function stepAttempt(handle: WorkflowHandle, activity: string) {
  const events = (await handle.fetchHistory()).events!;
  const scheduled = events.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity,
  )!;
  const started = events.find(
    (e) =>
      String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled.eventId),
  )!.activityTaskStartedEventAttributes!;
  return {
    heartbeatTimeout: Number(
      scheduled.activityTaskScheduledEventAttributes!.heartbeatTimeout?.seconds,
    ),
    attempt: started.attempt,
    lastFailure: started.lastFailure ?? null,
  };
}

/** Cloud Run SIGKILLs an instance this long after its SIGTERM (scripts/worker.ts cites it). */
export const PLATFORM_KILL_MS = 10_000;

/** Waits (two minutes at most) until a worker runs step `activity`; false if none does. */
export async function stepStarted(handle: WorkflowHandle, activity: string): Promise<boolean> {
  const started = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
  for (let i = 0; i < 480; i++) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    if (pending.some((a) => a.activityType?.name === activity && a.state === started)) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/**
 * Runs tenant `big`'s workflow for `runId` under the configuration's heartbeat timeout with an
 * in-process worker, until it completes (its report) or one of `steps` is retried (stepRetried).
 */
export async function runTenantUnlessRetried(
  server: DevServer,
  config: Config,
  runId: string,
  steps: string[],
) {
  const handle = await server.env.client.workflow.start('tenantWorkflow', {
    workflowId: tenantWorkflowId(runId, 'big'),
    taskQueue: config.temporal.taskQueue,
    args: [{ tenantId: 'big', runId, heartbeatTimeout: config.temporal.heartbeatTimeout }],
  });
  const { worker, close } = await createWorker(config, server.env.nativeConnection);
  const polling = new AbortController();
  const report = (await worker
    .runUntil(Promise.race([handle.result(), stepRetried(handle, steps, polling.signal)]))
    .finally(() => {
      polling.abort();
      return close();
    })) as TenantReport;
  return { handle, report };
}

/**
 * Starts tenant `big`'s workflow for `runId` on a worker process (added to `workers`, for the
 * test file to kill at its end), and stops that worker as Cloud Run would as soon as step
 * `activity` runs: SIGTERM, then SIGKILL PLATFORM_KILL_MS later. Returns the worker's exit code
 * (0: it stopped in time by itself), its output, and the workflow.
 */
/**
 * For a test file that runs worker processes: its dev server (null: the tests skip), a temporary
 * folder, and the list of the workers it spawns, all ended after its tests (the workers killed).
 */
export async function workerProcessFixture(what: string, prefix: string) {
  const server = await devServerOrSkip(what);
  const tmp = tempDir(prefix);
  const workers: ReturnType<typeof spawnWorker>[] = [];
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await server?.teardown();
    tmp.cleanup();
  });
  return { server, tmp, workers };
}

/**
 * `raw` with a 1 s shutdown grace: a test that stops a worker mid-step needs the step to outlast
 * the grace, and with the default (5 s) a fast or idle machine could finish it meanwhile, leaving
 * nothing cancelled to look at.
 */
export function withShortGrace<T extends object>(raw: T): T {
  const temporal = (raw as { temporal?: object }).temporal;
  return { ...raw, temporal: { ...temporal, shutdownGraceTime: '1s' } };
}

export async function stopWorkerDuringStep(
  server: DevServer,
  raw: object,
  { taskQueue, runId, activity }: { taskQueue: string; runId: string; activity: string },
  workers: ReturnType<typeof spawnWorker>[],
) {
  const handle = await server.env.client.workflow.start('tenantWorkflow', {
    workflowId: tenantWorkflowId(runId, 'big'),
    taskQueue,
    args: [{ tenantId: 'big', runId }],
  });
  const worker = spawnWorker(server, withShortGrace(raw));
  workers.push(worker);
  if (!(await stepStarted(handle, activity)))
    throw new Error(
      `the ${activity} step did not start within two minutes; worker output:\n${worker.output()}`,
    );
  worker.child.kill('SIGTERM');
  const platformKill = setTimeout(() => worker.child.kill('SIGKILL'), PLATFORM_KILL_MS);
  const code = await worker.exited;
  clearTimeout(platformKill);
  return { code, output: worker.output(), handle };
}

/**
 * What a test expects of a worker stopped mid-step (stopWorkerDuringStep): it exited by itself,
 * before the platform's kill, and the step's attempt failed as a worker shutdown, the next one
 * scheduled already (not after the heartbeat timeout). Ends the workflow.
 */
export async function expectRetriedAfterShutdown(
  stopped: Awaited<ReturnType<typeof stopWorkerDuringStep>>,
  activity: string,
): Promise<void> {
  expect(stopped.code, `the worker was killed; its output:\n${stopped.output}`).toBe(0);
  const [pending] = (await stopped.handle.describe()).raw.pendingActivities ?? [];
  expect(pending).toMatchObject({
    activityType: { name: activity },
    attempt: 2,
    lastFailure: { applicationFailureInfo: { type: 'WorkerShutdown' } },
  });
  await stopped.handle.terminate('the test is over');
}
