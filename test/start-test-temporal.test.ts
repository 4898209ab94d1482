/**
 * Starting a test the same day in production form: startTestWorkflow on a real Temporal dev
 * server with the real worker and activities, after a batch workflow computed the default lists.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../core/config.js';
import { openStore } from '../core/store/index.js';
import { createWorker } from '../scripts/worker.js';
import { startTestWorkflowId } from '../workflows/ids.js';
import type { startTestWorkflow } from '../workflows/start-test.js';
import { loadPosts, tempDir, testConfig, topicPosts } from './helpers/fixtures.js';
import { devServerOrSkip, runBatchWorkflow } from './helpers/temporal-server.js';

const server = await devServerOrSkip('start-test on Temporal');
const tmp = tempDir();
let config: Config;

beforeAll(async () => {
  if (!server) return;
  config = testConfig(tmp.dir, {
    experimentsFile: 'experiments.yaml',
    temporal: { taskQueue: 'osusume-start-test' },
  });
  writeFileSync(config.experimentsFile, 'defaultAlgorithm: fielded\n');
  await loadPosts(config, topicPosts('acme', 30, 1));
  const report = await runBatchWorkflow(server, config, { runId: '2026-11-29' });
  expect(report.succeeded).toBe(1);
}, 120_000);
afterAll(async () => {
  await server?.teardown();
  tmp.cleanup();
});

describe.skipIf(server === null)('startTestWorkflow on a Temporal dev server', () => {
  it('computes only the new lists in a new version that carries the active ones, and activates it', async () => {
    writeFileSync(
      config.experimentsFile,
      `defaultAlgorithm: fielded
experiments:
  - id: lexical-test
    surface: footer
    tenants: [acme]
    variants: [{ name: control, algorithm: fielded }, { name: lexical, algorithm: lexical }]
`,
    );
    const version = '2026-11-29-start-1';
    const { worker, close } = await createWorker(config, server!.env.nativeConnection);
    let report;
    try {
      report = await worker.runUntil(
        server!.env.client.workflow.execute<typeof startTestWorkflow>('startTestWorkflow', {
          workflowId: startTestWorkflowId(version, 'acme'),
          taskQueue: config.temporal.taskQueue,
          args: [{ tenantId: 'acme', version }],
        }),
      );
    } finally {
      await close();
    }
    expect(report).toMatchObject({
      tenantId: 'acme',
      version,
      from: '2026-11-29',
      computed: ['lexical'],
      algorithms: ['fielded', 'lexical', 'popular'],
    });
    const store = openStore(config.store);
    try {
      expect(await store.getActive('acme')).toMatchObject({
        version,
        algorithms: ['fielded', 'lexical', 'popular'],
        previous: ['2026-11-29'],
      });
      expect(await store.getListAt('acme', version, 'fielded', 'p0001')).toEqual(
        await store.getListAt('acme', '2026-11-29', 'fielded', 'p0001'),
      );
      expect((await store.getListAt('acme', version, 'lexical', 'p0001'))?.length).toBeGreaterThan(
        0,
      );
      expect(await store.getListAt('acme', '2026-11-29', 'lexical', 'p0001')).toBeNull();
      expect(await store.getPopularAt('acme', version)).toEqual(
        await store.getPopularAt('acme', '2026-11-29'),
      );
    } finally {
      await store.close();
    }
  });
});
