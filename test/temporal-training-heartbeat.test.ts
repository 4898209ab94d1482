/**
 * A tenant that trains its own model (no model.dir) on a real Temporal dev server with the real
 * worker and activities. Training is minutes of arithmetic on a large tenant: unless it lets the
 * event loop run, no heartbeat leaves the worker meanwhile (the server times the embed attempt out
 * past temporal.heartbeatTimeout and retries it, and every retry trains again from scratch, until
 * the attempts run out), and a worker told to stop cannot cancel it before the platform kills it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.js';
import { createWorker } from '../scripts/worker.js';
import { tenantWorkflowId } from '../workflows/ids.js';
import type { TenantReport } from '../workflows/tenant-flow.js';
import { loadPosts, tempDir, variedDemoPosts } from './helpers/fixtures.js';
import { devServerOrSkip, rawWorkerConfig, spawnWorker } from './helpers/temporal-server.js';

/** Cloud Run SIGKILLs an instance this long after its SIGTERM (scripts/worker.ts cites it). */
const PLATFORM_KILL_MS = 10_000;

const server = await devServerOrSkip('model training on Temporal');
const tmp = tempDir('osusume-training-');
const workers: ReturnType<typeof spawnWorker>[] = [];

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await server?.teardown();
  tmp.cleanup();
});

/** A worker configuration in its own folder of `tmp` whose tenant `big` has `count` posts. */
async function largeTenant(name: string, count: number, temporal: Record<string, string> = {}) {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir);
  const raw = rawWorkerConfig(dir, `osusume-${name}`, {
    temporal: { taskQueue: `osusume-${name}`, ...temporal },
  });
  // Embedding lists only: the step under test, not the default lists' computation.
  writeFileSync(raw.experimentsFile, 'defaultAlgorithm: embedding\nexperiments: []\n');
  const config = parseConfig(raw, dir);
  const posts = variedDemoPosts('big', count);
  await loadPosts(config, posts);
  return { raw, config, posts };
}

/**
 * Rejects, with the failure the server recorded, once the embed step is on a second attempt;
 * never settles otherwise. Without it a step that times out on every attempt would keep the test
 * waiting through five attempts and their backoff.
 */
async function embedRetried(handle: WorkflowHandle, stop: AbortSignal): Promise<never> {
  while (!stop.aborted) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const embed = pending.find((a) => a.activityType?.name === 'embed');
    if (embed && (embed.attempt ?? 1) > 1) {
      const timeout = embed.lastFailure?.timeoutFailureInfo?.timeoutType;
      throw new Error(
        `embed is on attempt ${embed.attempt}; the last one failed: ${embed.lastFailure?.message}` +
          (timeout ? ` (${temporal.api.enums.v1.TimeoutType[timeout]})` : ''),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return new Promise<never>(() => {});
}

/** Waits (two minutes at most) until a worker runs the embed step; false if none does. */
async function embedStarted(handle: WorkflowHandle): Promise<boolean> {
  const started = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
  for (let i = 0; i < 480; i++) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    if (pending.some((a) => a.activityType?.name === 'embed' && a.state === started)) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

describe.skipIf(server === null)('a tenant training its own model on Temporal', () => {
  it('heartbeats while the model trains: the embed step completes on its first attempt', async () => {
    // A heartbeat timeout far below what this tenant's training takes (seconds), far above the
    // 1 s between two heartbeats of the other steps.
    const { config, posts } = await largeTenant('training', 6000, { heartbeatTimeout: '2s' });

    const runId = '2026-11-26';
    const workflowId = tenantWorkflowId(runId, 'big');
    const handle = await server!.env.client.workflow.start('tenantWorkflow', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [{ tenantId: 'big', runId, heartbeatTimeout: config.temporal.heartbeatTimeout }],
    });
    const { worker, close } = await createWorker(config, server!.env.nativeConnection);
    const polling = new AbortController();
    const report = (await worker
      .runUntil(Promise.race([handle.result(), embedRetried(handle, polling.signal)]))
      .finally(() => {
        polling.abort();
        return close();
      })) as TenantReport;
    expect(report.embedded).toMatchObject({ computed: posts.length, reused: 0 });

    // The history: the step ran under the short heartbeat timeout and its first attempt completed.
    const events = (await handle.fetchHistory()).events!;
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'embed',
    )!;
    expect(Number(scheduled.activityTaskScheduledEventAttributes!.heartbeatTimeout?.seconds)).toBe(
      2,
    );
    const started = events.find(
      (e) =>
        String(e.activityTaskStartedEventAttributes?.scheduledEventId) ===
        String(scheduled.eventId),
    )!.activityTaskStartedEventAttributes!;
    expect(started.attempt).toBe(1);
    expect(started.lastFailure ?? null).toBeNull();
  }, 300_000);

  it('a worker told to stop while the model trains cancels the training and exits before the platform kills it', async () => {
    const { raw, config } = await largeTenant('stop', 12_000);
    const runId = '2026-11-27';
    const handle = await server!.env.client.workflow.start('tenantWorkflow', {
      workflowId: tenantWorkflowId(runId, 'big'),
      taskQueue: config.temporal.taskQueue,
      args: [{ tenantId: 'big', runId }],
    });
    const worker = spawnWorker(server!, raw);
    workers.push(worker);
    // Stop it as the embed step starts: reading the snapshot takes a moment, training seconds.
    expect(
      await embedStarted(handle),
      `the embed step did not start; worker output:\n${worker.output()}`,
    ).toBe(true);
    worker.child.kill('SIGTERM');
    const platformKill = setTimeout(() => worker.child.kill('SIGKILL'), PLATFORM_KILL_MS);
    const code = await worker.exited;
    clearTimeout(platformKill);
    expect(code, `the worker was killed; its output:\n${worker.output()}`).toBe(0);
    // Its attempt failed as it stopped: the next is scheduled already.
    const [embed] = (await handle.describe()).raw.pendingActivities ?? [];
    expect(embed).toMatchObject({
      activityType: { name: 'embed' },
      attempt: 2,
      lastFailure: { applicationFailureInfo: { type: 'WorkerShutdown' } },
    });
    await handle.terminate('the test is over');
  }, 300_000);
});
