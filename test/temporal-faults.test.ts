/**
 * Fault injection on Temporal: a batch runs on worker processes that are SIGKILLed at random
 * moments, each replaced by a new one. After every kill each tenant serves exactly one complete
 * version (the previous run's or the new one), and the batch still completes for every tenant.
 * FAULT_KILLS sets the number of kills (3 in CI).
 */
import { temporal } from '@temporalio/proto';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.js';
import { openStore, type RecommendationStore } from '../core/store/index.js';
import { createRandom } from '../core/random.js';
import type { batchWorkflow } from '../workflows/batch.js';
import { batchWorkflowId, tenantWorkflowId } from '../workflows/ids.js';
import { loadPosts, tempDir, topicPosts } from './helpers/fixtures.js';
import {
  devServerOrSkip,
  rawWorkerConfig,
  runBatchWorkflow,
  spawnWorker,
} from './helpers/temporal-server.js';

const KILLS = Number(process.env.FAULT_KILLS ?? 3);
const server = await devServerOrSkip('Temporal fault injection test');
const tmp = tempDir('osusume-faults-');
const raw = rawWorkerConfig(tmp.dir, 'osusume-faults');
const config = parseConfig(raw, tmp.dir);
const tenants = Array.from({ length: 12 }, (_, i) => `f${i}`);
const posts = tenants.flatMap((t, i) => topicPosts(t, 10, i + 1));

/** The version each tenant serves, after checking that every one of its posts has its list there. */
async function servedVersions(store: RecommendationStore): Promise<Map<string, string>> {
  const served = new Map<string, string>();
  for (const tenantId of tenants) {
    const active = await store.getActive(tenantId);
    expect(active, `${tenantId} serves nothing`).not.toBeNull();
    for (const post of posts.filter((p) => p.tenantId === tenantId)) {
      const list = await store.getListAt(tenantId, active!.version, 'fielded', post.postId);
      expect(list, `${tenantId}/${post.postId} has no list in ${active!.version}`).not.toBeNull();
    }
    served.set(tenantId, active!.version);
  }
  return served;
}

/** The steps (activity types) that tenant workflows have started and not finished. */
async function runningSteps(): Promise<string[]> {
  const client = server!.env.client;
  const steps: string[] = [];
  for await (const run of client.workflow.list({
    query: `WorkflowType = 'tenantWorkflow' AND ExecutionStatus = 'Running'`,
  })) {
    const description = await client.workflow.getHandle(run.workflowId, run.runId).describe();
    for (const activity of description.raw.pendingActivities ?? []) {
      if (
        activity.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
      )
        steps.push(activity.activityType!.name!);
    }
  }
  return steps;
}

/** Steps of the run's tenant workflows that Temporal retried because their worker stopped heartbeating. */
async function interruptedSteps(runId: string): Promise<string[]> {
  const steps: string[] = [];
  for (const tenantId of tenants) {
    const history = await server!.env.client.workflow
      .getHandle(tenantWorkflowId(runId, tenantId))
      .fetchHistory();
    const types = new Map(
      history.events!.map((e) => [
        String(e.eventId),
        e.activityTaskScheduledEventAttributes?.activityType?.name,
      ]),
    );
    for (const event of history.events!) {
      const started = event.activityTaskStartedEventAttributes;
      if (
        started?.lastFailure?.timeoutFailureInfo?.timeoutType ===
        temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT
      )
        steps.push(`${tenantId}:${types.get(String(started.scheduledEventId))}`);
    }
  }
  return steps;
}

describe.skipIf(server === null)('worker processes SIGKILLed during a batch', () => {
  const workers: ReturnType<typeof spawnWorker>[] = [];

  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await server?.teardown();
    tmp.cleanup();
  });

  it(`leaves every tenant serving one complete version after each of ${KILLS} kills, and the batch completes`, async () => {
    await loadPosts(config, posts);
    const first = await runBatchWorkflow(server!, config, { runId: 'v1' });
    expect(first.succeeded).toBe(tenants.length);

    const runId = 'v2';
    const handle = await server!.env.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      workflowId: batchWorkflowId(runId),
      taskQueue: raw.temporal.taskQueue,
      args: [{ runId, options: { maxConcurrentTenants: 3, heartbeatTimeout: '2s' } }],
    });
    const random = createRandom(11);
    const killedDuring: string[][] = [];
    const store = openStore(config.store);
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const worker = spawnWorker(server!, raw);
        workers.push(worker);
        // Kill at a random moment while the new worker runs a step (it takes seconds to start).
        await new Promise((r) => setTimeout(r, random() * 3_000));
        let running: string[] = [];
        for (let i = 0; i < 600 && running.length === 0; i++) {
          running = await runningSteps();
          if (running.length === 0) await new Promise((r) => setTimeout(r, 100));
        }
        worker.child.kill('SIGKILL');
        killedDuring.push(running);
        expect(await worker.exited).toBeNull();
        for (const version of (await servedVersions(store)).values()) {
          expect(['v1', runId]).toContain(version);
        }
      }
      const last = spawnWorker(server!, raw);
      workers.push(last);
      const report = await handle.result();
      // The history is the proof that kills cut steps short: retried after a heartbeat timeout.
      const interrupted = await interruptedSteps(runId);
      console.log(
        `steps running at each kill: ${JSON.stringify(killedDuring)}; retried after their worker died: ${JSON.stringify(interrupted)}`,
      );
      expect(interrupted.length).toBeGreaterThan(0);
      expect(report).toMatchObject({ tenants: tenants.length, succeeded: tenants.length });
      const served = await servedVersions(store);
      expect([...new Set(served.values())]).toEqual([runId]);
      last.child.kill('SIGTERM');
      await last.exited;
    } finally {
      await store.close();
    }
  }, 600_000);
});
