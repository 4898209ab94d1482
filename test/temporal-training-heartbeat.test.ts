/**
 * A tenant that trains its own model (no model.dir) for longer than temporal.heartbeatTimeout, on
 * a real Temporal dev server with the real worker and activities. Training is minutes of
 * arithmetic on a large tenant: unless it lets the event loop run, no heartbeat leaves the worker
 * meanwhile, the server times the embed attempt out and retries it, and every retry trains again
 * from scratch, until the attempts run out.
 */
import { writeFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.js';
import { createWorker } from '../scripts/worker.js';
import { tenantWorkflowId } from '../workflows/ids.js';
import type { TenantReport } from '../workflows/tenant-flow.js';
import { loadPosts, tempDir, variedDemoPosts } from './helpers/fixtures.js';
import { devServerOrSkip, rawWorkerConfig } from './helpers/temporal-server.js';

const server = await devServerOrSkip('model training on Temporal');
const tmp = tempDir('osusume-training-');

afterAll(async () => {
  await server?.teardown();
  tmp.cleanup();
});

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

describe.skipIf(server === null)('a tenant training its own model on Temporal', () => {
  it('heartbeats while the model trains: the embed step completes on its first attempt', async () => {
    const raw = rawWorkerConfig(tmp.dir, 'osusume-training', {
      // Far below what this tenant's training takes (seconds), far above the 1 s between two
      // heartbeats of the other steps.
      temporal: { taskQueue: 'osusume-training', heartbeatTimeout: '2s' },
    });
    // Embedding lists only: the step under test, not the default lists' computation.
    writeFileSync(raw.experimentsFile, 'defaultAlgorithm: embedding\nexperiments: []\n');
    const config = parseConfig(raw, tmp.dir);
    const posts = variedDemoPosts('big', 6000);
    await loadPosts(config, posts);

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
});
