/**
 * `osusume worker` told to stop (SIGTERM) on a real Temporal dev server while it embeds a large
 * tenant, with Cloud Run's deadline: it must exit before the SIGKILL that follows 10 s later,
 * and the cancelled step's attempt must fail then, so that Temporal retries it on another worker
 * after its retry backoff (resuming from its checkpoints), not after its heartbeat timeout.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE } from '../activities/embed.js';
import type { TenantReport } from '../workflows/tenant-flow.js';
import { tenantWorkflowId } from '../workflows/ids.js';
import {
  embedChunksWritten,
  PLATFORM_KILL_MS,
  slowEmbeddingTenant,
  spawnWorker,
  withShortGrace,
  workerProcessFixture,
} from './helpers/temporal-server.js';

const { server, tmp, workers } = await workerProcessFixture(
  'worker shutdown on Temporal',
  'osusume-shutdown-',
);

describe.skipIf(server === null)('the worker process on SIGTERM', () => {
  it('exits before the platform kills it; the step it cancelled is retried without waiting for its heartbeat timeout', async () => {
    const { raw, config, posts } = await slowEmbeddingTenant(tmp.dir, 'osusume-shutdown', {
      count: 8000,
      hidden: 384,
    });

    const runId = '2026-11-25';
    // The default heartbeat timeout (2m): a worker killed mid-step is noticed only after it.
    const handle = await server!.env.client.workflow.start('tenantWorkflow', {
      workflowId: tenantWorkflowId(runId, 'big'),
      taskQueue: config.temporal.taskQueue,
      args: [{ tenantId: 'big', runId }],
    });
    const first = spawnWorker(server!, withShortGrace(raw));
    workers.push(first);
    // Stop it once embedding is under way: a checkpoint is on disk.
    expect(
      await embedChunksWritten(config, runId, 1),
      `no embedding checkpoint; worker output:\n${first.output()}`,
    ).toBe(1);
    first.child.kill('SIGTERM');
    // What Cloud Run does to an instance still running 10 s after its SIGTERM.
    const platformKill = setTimeout(() => first.child.kill('SIGKILL'), PLATFORM_KILL_MS);
    const code = await first.exited;
    clearTimeout(platformKill);
    expect(code, `the worker was killed; its output:\n${first.output()}`).toBe(0);

    // Its attempt failed as it stopped: the next is scheduled already, not after a heartbeat timeout.
    const [embed] = (await handle.describe()).raw.pendingActivities ?? [];
    expect(embed).toMatchObject({
      activityType: { name: 'embed' },
      attempt: 2,
      lastFailure: { applicationFailureInfo: { type: 'WorkerShutdown' } },
    });

    const second = spawnWorker(server!, raw);
    workers.push(second);
    const report = (await handle.result()) as TenantReport;
    expect(report.embedded!.computed + report.embedded!.reused).toBe(posts.length);
    expect(report.embedded!.reused).toBeGreaterThanOrEqual(CHUNK_SIZE);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 300_000);
});
