/**
 * A tenant that trains its own model (no model.dir) on a real Temporal dev server with the real
 * worker and activities. Training is minutes of arithmetic on a large tenant: unless it lets the
 * event loop run, no heartbeat leaves the worker meanwhile (the server times the embed attempt out
 * past temporal.heartbeatTimeout and retries it, and every retry trains again from scratch, until
 * the attempts run out), and a worker told to stop cannot cancel it before the platform kills it.
 */
import { describe, expect, it } from 'vitest';
import {
  largeTenant,
  runTenantUnlessRetried,
  stepAttempt,
  stopWorkerDuringStep,
  workerProcessFixture,
  expectRetriedAfterShutdown,
} from './helpers/temporal-server.js';

const { server, tmp, workers } = await workerProcessFixture(
  'model training on Temporal',
  'osusume-training-',
);

/** Embedding lists only: the step under test, not the default lists' computation. */
const EMBEDDING_ONLY = 'defaultAlgorithm: embedding\nexperiments: []\n';

describe.skipIf(server === null)('a tenant training its own model on Temporal', () => {
  it('heartbeats while the model trains: the embed step completes on its first attempt', async () => {
    // A heartbeat timeout far below what this tenant's training takes (seconds), far above the
    // 1 s between two heartbeats of the other steps.
    const { config, posts } = await largeTenant(tmp.dir, 'training', 6000, {
      experiments: EMBEDDING_ONLY,
      temporal: { heartbeatTimeout: '2s' },
    });

    const { handle, report } = await runTenantUnlessRetried(server!, config, '2026-11-26', [
      'embed',
    ]);
    expect(report.embedded).toMatchObject({ computed: posts.length, reused: 0 });

    // The history: the step ran under the short heartbeat timeout and its first attempt completed.
    expect(await stepAttempt(handle, 'embed')).toEqual({
      heartbeatTimeout: 2,
      attempt: 1,
      lastFailure: null,
    });
  }, 300_000);

  it('a worker told to stop while the model trains cancels the training and exits before the platform kills it', async () => {
    const { raw, config } = await largeTenant(tmp.dir, 'stop', 12_000, {
      experiments: EMBEDDING_ONLY,
    });
    // Stop it as the embed step starts: reading the snapshot takes a moment, training seconds.
    const stopped = await stopWorkerDuringStep(
      server!,
      raw,
      { taskQueue: config.temporal.taskQueue, runId: '2026-11-27', activity: 'embed' },
      workers,
    );
    await expectRetriedAfterShutdown(stopped, 'embed');
  }, 300_000);
});
