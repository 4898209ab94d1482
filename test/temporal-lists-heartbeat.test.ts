/**
 * A tenant's lexical and default (fielded) lists on a real Temporal dev server with the real
 * worker and activities. Ranking every post against every other grows with the square of the
 * posts (about a minute at 10,000): unless it lets the event loop run, no heartbeat leaves the
 * worker meanwhile, and the server times the step out past temporal.heartbeatTimeout on every
 * attempt (2 minutes by default: from about 12,000 posts on).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createWorker } from '../scripts/worker.js';
import { tenantWorkflowId } from '../workflows/ids.js';
import type { TenantReport } from '../workflows/tenant-flow.js';
import { tempDir } from './helpers/fixtures.js';
import {
  devServerOrSkip,
  largeTenant,
  stepAttempt,
  stepRetried,
} from './helpers/temporal-server.js';

const server = await devServerOrSkip('lists on Temporal');
const tmp = tempDir('osusume-lists-');

afterAll(async () => {
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
});
