/**
 * The whole batch on a real Temporal dev server. The SDK downloads the Temporal CLI for it, which
 * works on a laptop with internet and not on the offline CI machines: there this file says
 * plainly that it skipped.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../core/store/index.js';
import { createWorker } from '../scripts/worker.js';
import type { batchWorkflow } from '../workflows/batch.js';
import { loadPosts, tempDir, testConfig, topicPosts } from './helpers/fixtures.js';

const env = await TestWorkflowEnvironment.createLocal().catch((error: Error) => {
  console.warn(
    `SKIPPED: Temporal end-to-end test, no dev server could be started: ${error.message.slice(0, 200)}`,
  );
  return null;
});

describe.skipIf(env === null)('batch workflow on a Temporal dev server', () => {
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs every tenant through child workflows and serves their lists', async () => {
    const tmp = tempDir();
    const posts = [...topicPosts('acme', 40, 1), ...topicPosts('tiny', 3, 2)];
    const config = testConfig(tmp.dir, { temporal: { taskQueue: 'osusume-e2e' } });
    await loadPosts(config, posts);

    const { worker, close } = await createWorker(config, env!.nativeConnection);
    const report = await worker.runUntil(
      env!.client.workflow.execute<typeof batchWorkflow>('batchWorkflow', {
        workflowId: 'osusume-batch/e2e',
        taskQueue: 'osusume-e2e',
        args: [{ runId: '2026-11-22' }],
      }),
    );
    await close();
    expect(report).toMatchObject({ tenants: 2, succeeded: 2, failedCount: 0 });
    const store = openStore(config.store);
    expect((await store.getList('acme', 'embedding', 'p0001'))?.version).toBe('2026-11-22');
    await store.close();
    tmp.cleanup();
  }, 120_000);
});
