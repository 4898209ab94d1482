/**
 * The whole batch on a real Temporal dev server (scripts/temporal-dev-server.ts), with the real
 * worker and activities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../core/store/index.js';
import type { DevServer } from '../scripts/temporal-dev-server.js';
import { createWorker } from '../scripts/worker.js';
import type { batchWorkflow } from '../workflows/batch.js';
import { loadPosts, tempDir, testConfig, topicPosts } from './helpers/fixtures.js';
import { devServerOrSkip } from './helpers/temporal-server.js';

const server = await devServerOrSkip('Temporal end-to-end test');

describe.skipIf(server === null)('batch workflow on a Temporal dev server', () => {
  let dev: DevServer;
  beforeAll(() => {
    dev = server!;
  });
  afterAll(async () => {
    await server?.teardown();
  });

  it('runs every tenant through child workflows and serves their lists', async () => {
    const tmp = tempDir();
    const posts = [...topicPosts('acme', 40, 1), ...topicPosts('tiny', 3, 2)];
    const config = testConfig(tmp.dir, { temporal: { taskQueue: 'osusume-e2e' } });
    await loadPosts(config, posts);

    const { worker, close } = await createWorker(config, dev.env.nativeConnection);
    const report = await worker.runUntil(
      dev.env.client.workflow.execute<typeof batchWorkflow>('batchWorkflow', {
        workflowId: 'osusume-batch/e2e',
        taskQueue: 'osusume-e2e',
        args: [{ runId: '2026-11-22' }],
      }),
    );
    await close();
    expect(report).toMatchObject({ tenants: 2, succeeded: 2, failedCount: 0 });
    const store = openStore(config.store);
    expect((await store.getList('acme', 'fielded', 'p0001'))?.version).toBe('2026-11-22');
    await store.close();
    tmp.cleanup();
  }, 120_000);
});
