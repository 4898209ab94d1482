/**
 * A tenant's lexical and default (fielded) lists on a real Temporal dev server with the real
 * worker and activities. Ranking every post against every other grows with the square of the
 * posts (about a minute at 10,000): unless it lets the event loop run, no heartbeat leaves the
 * worker meanwhile, and the server times the step out past temporal.heartbeatTimeout on every
 * attempt (2 minutes by default: from about 12,000 posts on), and a worker told to stop cannot
 * cancel it before the platform kills it.
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

const { server, tmp, workers } = await workerProcessFixture('lists on Temporal', 'osusume-lists-');

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
    const { handle, report } = await runTenantUnlessRetried(server!, config, '2026-11-28', [
      'lexical',
      'fielded',
    ]);
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
    // Stop it as the step starts: ranking this tenant takes far longer than the grace (1 s here).
    const stopped = await stopWorkerDuringStep(
      server!,
      raw,
      { taskQueue: config.temporal.taskQueue, runId: '2026-11-29', activity: 'fielded' },
      workers,
    );
    await expectRetriedAfterShutdown(stopped, 'fielded');
  }, 300_000);
});
