/**
 * A tenant's lexical and default (fielded) lists on a real Temporal dev server with the real
 * worker and activities. Ranking every post against every other grows with the square of the
 * posts (about a minute at 10,000): unless it lets the event loop run, no heartbeat leaves the
 * worker meanwhile, and the server times the step out past temporal.heartbeatTimeout on every
 * attempt (2 minutes by default: from about 12,000 posts on), and a worker told to stop cannot
 * cancel it before the platform kills it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createWorker } from '../scripts/worker.js';
import { tenantWorkflowId } from '../workflows/ids.js';
import type { TenantReport } from '../workflows/tenant-flow.js';
import { tempDir } from './helpers/fixtures.js';
import {
  devServerOrSkip,
  largeTenant,
  PLATFORM_KILL_MS,
  spawnWorker,
  stepAttempt,
  stepRetried,
  stepStarted,
} from './helpers/temporal-server.js';

const server = await devServerOrSkip('lists on Temporal');
const tmp = tempDir('osusume-lists-');
const workers: ReturnType<typeof spawnWorker>[] = [];

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await server?.teardown();
  tmp.cleanup();
});

/** The default lists, and an experiment that serves the lexical ones: both steps, no embedding. */
const LEXICAL_AND_FIELDED = `defaultAlgorithm: fielded
experiments:
  - id: lexical-vs-fielded
    surface: footer
    variants:
      - { name: control, algorithm: fielded, weight: 1 }
      - { name: lexical, algorithm: lexical, weight: 1 }
`;

describe.skipIf(server === null)("a tenant's lexical and default lists on Temporal", () => {
  it('heartbeat while they rank: both steps complete on their first attempt', async () => {
    // A heartbeat timeout far below what ranking this tenant takes (seconds for each list), far
    // above the 1 s between two heartbeats of a step.
    const { config, posts } = await largeTenant(tmp.dir, 'lists', 4000, {
      experiments: LEXICAL_AND_FIELDED,
      temporal: { heartbeatTimeout: '2s' },
    });
    const runId = '2026-11-28';
    const handle = await server!.env.client.workflow.start('tenantWorkflow', {
      workflowId: tenantWorkflowId(runId, 'big'),
      taskQueue: config.temporal.taskQueue,
      args: [{ tenantId: 'big', runId, heartbeatTimeout: config.temporal.heartbeatTimeout }],
    });
    const { worker, close } = await createWorker(config, server!.env.nativeConnection);
    const polling = new AbortController();
    const report = (await worker
      .runUntil(
        Promise.race([
          handle.result(),
          stepRetried(handle, ['lexical', 'fielded'], polling.signal),
        ]),
      )
      .finally(() => {
        polling.abort();
        return close();
      })) as TenantReport;
    expect(report.lists).toBe(posts.length);
    expect(report.embedded).toBeUndefined();

    // The history: each step ran under the short heartbeat timeout and its first attempt completed.
    for (const step of ['lexical', 'fielded'])
      expect(await stepAttempt(handle, step), step).toEqual({
        heartbeatTimeout: 2,
        attempt: 1,
        lastFailure: null,
      });
  }, 300_000);

  it('a worker told to stop while the default lists rank cancels the ranking and exits before the platform kills it', async () => {
    const { raw, config } = await largeTenant(tmp.dir, 'stop', 5000, {
      experiments: 'defaultAlgorithm: fielded\nexperiments: []\n',
    });
    const runId = '2026-11-29';
    const handle = await server!.env.client.workflow.start('tenantWorkflow', {
      workflowId: tenantWorkflowId(runId, 'big'),
      taskQueue: config.temporal.taskQueue,
      args: [{ tenantId: 'big', runId }],
    });
    const worker = spawnWorker(server!, raw);
    workers.push(worker);
    // Stop it as the step starts: ranking this tenant takes far longer than the grace time (5 s).
    expect(
      await stepStarted(handle, 'fielded'),
      `the fielded step did not start; worker output:\n${worker.output()}`,
    ).toBe(true);
    worker.child.kill('SIGTERM');
    const platformKill = setTimeout(() => worker.child.kill('SIGKILL'), PLATFORM_KILL_MS);
    const code = await worker.exited;
    clearTimeout(platformKill);
    expect(code, `the worker was killed; its output:\n${worker.output()}`).toBe(0);
    // Its attempt failed as it stopped: the next is scheduled already.
    const [fielded] = (await handle.describe()).raw.pendingActivities ?? [];
    expect(fielded).toMatchObject({
      activityType: { name: 'fielded' },
      attempt: 2,
      lastFailure: { applicationFailureInfo: { type: 'WorkerShutdown' } },
    });
    await handle.terminate('the test is over');
  }, 300_000);
});
