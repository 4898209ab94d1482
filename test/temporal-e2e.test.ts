/**
 * The batch on a real Temporal dev server (scripts/temporal-dev-server.ts) with the real worker
 * and activities: one child per demo tenant, a transient failure retried by Temporal, a bad
 * tenant failing alone, continue-as-new, a tenant added and one purged between runs, the
 * Schedule, and a worker SIGKILLed in the middle of embedding. The histories it records replay
 * against today's workflows; `OSUSUME_RECORD_HISTORIES=1` also writes them to
 * test/fixtures/histories/ for the server-free replay test.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { temporal } from '@temporalio/proto';
import { Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  DefaultLogger,
  Worker,
  type ActivityInboundCallsInterceptor,
  type WorkflowBundle,
} from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_SIZE, type EmbedProgress } from '../activities/embed.js';
import { parseConfig, type Config } from '../core/config.js';
import { openStore } from '../core/store/index.js';
import { connectTemporal } from '../core/temporal.js';
import { scheduleOptions, upsertSchedule } from '../scripts/temporal.js';
import { createWorker, WORKFLOWS_PATH } from '../scripts/worker.js';
import type { TenantReport } from '../workflows/tenant-flow.js';
import { purgeWorkflowId, tenantWorkflowId } from '../workflows/ids.js';
import { demoSubset, emptyPost, loadPosts, tempDir, topicPosts } from './helpers/fixtures.js';
import {
  describeWorkflow,
  devServerOrSkip,
  embedChunksWritten,
  runBatchWorkflow,
  rawWorkerConfig,
  slowEmbeddingTenant,
  spawnWorker,
} from './helpers/temporal-server.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type History = temporal.api.history.v1.IHistory;

const server = await devServerOrSkip('Temporal end-to-end test');
const RECORD = process.env.OSUSUME_RECORD_HISTORIES === '1';
const FIXTURES = new URL('./fixtures/histories/', import.meta.url).pathname;

const tmp = tempDir('osusume-e2e-');
const config: Config = parseConfig(rawWorkerConfig(tmp.dir, 'osusume-e2e'), tmp.dir);

const demo = demoSubset(12);
const demoTenants = [...new Set(demo.map((p) => p.tenantId))].sort();
const BAD_ROWS = [1, 2, 3].map((i) => emptyPost('broken', `b${i}`));
/** The tenant whose first storeLists attempt fails (a transient store outage). */
const FLAKY = demoTenants[0]!;

/** Fails one activity's first attempt for one tenant with a retryable error. */
function failFirstAttempt(activity: string, tenantId: string): ActivityInboundCallsInterceptor {
  return {
    async execute(input, next) {
      const { activityType, attempt } = Context.current().info;
      const arg = input.args[0] as { tenantId?: string };
      if (activityType === activity && arg.tenantId === tenantId && attempt === 1) {
        throw ApplicationFailure.retryable('injected: the store is unavailable', 'BackendError');
      }
      return next(input);
    },
  };
}

async function history(workflowId: string, runId?: string): Promise<History> {
  return server!.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
}

function activityStarts(events: HistoryEvent[], activityType: string) {
  const scheduled = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
      .map((e) => String(e.eventId)),
  );
  return events
    .map((e) => e.activityTaskStartedEventAttributes)
    .filter((a) => a && scheduled.has(String(a.scheduledEventId)));
}

/** Histories recorded here, by fixture name: replayed below, written when RECORD. */
const recorded = new Map<string, History>();

describe.skipIf(server === null)('batch workflow on a Temporal dev server', () => {
  let bundle: WorkflowBundle;
  const workers: ReturnType<typeof spawnWorker>[] = [];

  beforeAll(async () => {
    bundle = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      logger: new DefaultLogger('WARN'),
    });
    await loadPosts(config, [...demo, ...BAD_ROWS]);
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await server?.teardown();
    tmp.cleanup();
  });

  it('runs one child per demo tenant: a transient failure retried, a bad tenant failing alone, continue-as-new', async () => {
    const runId = '2026-11-20';
    const report = await runBatchWorkflow(
      server!,
      config,
      { runId, options: { tenantsPerSegment: 5, maxConcurrentTenants: 4 } },
      {
        workflowBundle: bundle,
        interceptors: { activity: [() => ({ inbound: failFirstAttempt('storeLists', FLAKY) })] },
      },
    );
    expect(report).toMatchObject({
      tenants: demoTenants.length + 1,
      succeeded: demoTenants.length,
      failedCount: 1,
      segments: 4,
    });
    expect(report.failed).toEqual([
      {
        tenantId: 'broken',
        error: expect.stringMatching(/none of its 3 rows is a valid post \(empty: post "b1"/),
      },
    ]);

    const store = openStore(config.store);
    try {
      for (const tenantId of demoTenants) {
        const child = await describeWorkflow(server!, tenantWorkflowId(runId, tenantId));
        expect(child.status.name).toBe('COMPLETED');
        // Tenants below pipeline.minPostsForEmbedding posts get the popular list alone.
        expect(await store.getActive(tenantId)).toMatchObject({
          version: runId,
          algorithms: expect.arrayContaining(['popular']),
        });
      }
      expect((await describeWorkflow(server!, tenantWorkflowId(runId, 'broken'))).status.name).toBe(
        'FAILED',
      );
      expect(await store.listTenants()).not.toContain('broken');
    } finally {
      await store.close();
    }

    // Temporal retried the failed attempt itself: the attempt that completed is the second.
    const flaky = await history(tenantWorkflowId(runId, FLAKY));
    const [storeStart] = activityStarts(flaky.events!, 'storeLists');
    expect(storeStart?.attempt).toBe(2);
    expect(storeStart?.lastFailure?.message).toBe('injected: the store is unavailable');
    recorded.set('tenant-workflow', flaky);

    // 17 tenants, 5 per segment: three runs continued as new, the fourth completed.
    const runs: string[] = [];
    for await (const run of server!.env.client.workflow.list({
      query: `WorkflowId = 'osusume-batch/${runId}'`,
    })) {
      runs.push(run.status.name);
    }
    expect(runs.sort()).toEqual([
      'COMPLETED',
      'CONTINUED_AS_NEW',
      'CONTINUED_AS_NEW',
      'CONTINUED_AS_NEW',
    ]);
  }, 240_000);

  it('picks up a tenant added between runs and purges a removed one (grace 0)', async () => {
    const runId = '2026-11-21';
    const removed = demoTenants.at(-1)!;
    const added = topicPosts('newcomer', 12, 5);
    await loadPosts(config, [...demo.filter((p) => p.tenantId !== removed), ...added], {
      replace: true,
    });
    const report = await runBatchWorkflow(
      server!,
      config,
      { runId, options: { tenantsPerSegment: 10 } },
      { workflowBundle: bundle },
    );
    expect(report).toMatchObject({
      tenants: demoTenants.length,
      succeeded: demoTenants.length,
      failedCount: 0,
      purged: [removed],
      segments: 2,
    });
    expect((await describeWorkflow(server!, purgeWorkflowId(runId, removed))).status.name).toBe(
      'COMPLETED',
    );
    const store = openStore(config.store);
    try {
      expect((await store.getList('newcomer', 'fielded', added[0]!.postId))?.version).toBe(runId);
      expect(await store.listTenants()).not.toContain(removed);
      expect(await store.getActive(removed)).toBeNull();
    } finally {
      await store.close();
    }
    // Its first run: the purge child, the first segment's tenants, continue-as-new.
    const batchRuns: string[] = [];
    for await (const run of server!.env.client.workflow.list({
      query: `WorkflowId = 'osusume-batch/${runId}' AND ExecutionStatus = 'ContinuedAsNew'`,
    })) {
      batchRuns.push(run.runId);
    }
    expect(batchRuns).toHaveLength(1);
    const first = await history(`osusume-batch/${runId}`, batchRuns[0]);
    expect(first.events!.at(-1)?.eventType).toBe(
      temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    );
    recorded.set('batch-workflow', first);
  }, 240_000);

  it('creates, updates and triggers the Schedule', async () => {
    const client = server!.env.client;
    expect(await upsertSchedule(client, config)).toBe('created');
    const handle = client.schedule.getHandle(config.temporal.schedule.id);
    const before = await handle.describe();
    const moved = {
      ...config,
      temporal: {
        ...config.temporal,
        schedule: { ...config.temporal.schedule, cron: '30 4 * * *' },
      },
    };
    expect(await upsertSchedule(client, moved)).toBe('updated');
    const after = await handle.describe();
    expect(after.spec).not.toEqual(before.spec);
    expect(after.spec.calendars?.[0]).toMatchObject({
      hour: [{ start: 4, end: 4, step: 1 }],
      minute: [{ start: 30, end: 30, step: 1 }],
    });
    expect(after.action).toMatchObject({
      workflowType: 'batchWorkflow',
      taskQueue: scheduleOptions(config).action.taskQueue,
    });

    await handle.trigger();
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && !workflowId; i++) {
      workflowId = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (!workflowId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(workflowId).toMatch(/^osusume-batch\/scheduled/);
    const { worker, close } = await createWorker(config, server!.env.nativeConnection, {
      workflowBundle: bundle,
    });
    const report = await worker
      .runUntil(client.workflow.getHandle(workflowId!).result())
      .finally(close);
    expect(report).toMatchObject({ tenants: demoTenants.length, failedCount: 0 });
    await handle.delete();
  }, 240_000);

  it('gives a run caught up after downtime the date it was scheduled for, not the next one', async () => {
    const client = server!.env.client;
    await upsertSchedule(client, config);
    const handle = client.schedule.getHandle(config.temporal.schedule.id);
    // 03:00 Asia/Tokyo on 2026-11-19 is 18:00 UTC on the 18th; the catch-up starts days later.
    await handle.backfill([
      {
        start: new Date('2026-11-18T17:59:00Z'),
        end: new Date('2026-11-18T18:01:00Z'),
        overlap: ScheduleOverlapPolicy.ALLOW_ALL,
      },
    ]);
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && !workflowId; i++) {
      workflowId = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (!workflowId) await new Promise((r) => setTimeout(r, 100));
    }
    const { worker, close } = await createWorker(config, server!.env.nativeConnection, {
      workflowBundle: bundle,
    });
    const report = await worker
      .runUntil(client.workflow.getHandle(workflowId!).result())
      .finally(close);
    expect(report).toMatchObject({ runId: '2026-11-18', skipped: 0 });
    await handle.delete();
  }, 240_000);

  it('resumes embedding from the last heartbeat after the worker is SIGKILLed', async () => {
    const dir = tempDir('osusume-e2e-kill-');
    try {
      const {
        raw,
        config: killConfig,
        posts,
      } = await slowEmbeddingTenant(dir.dir, 'osusume-e2e-kill', { count: 8000, hidden: 96 });

      const runId = '2026-11-22';
      const workflowId = tenantWorkflowId(runId, 'big');
      const handle = await server!.env.client.workflow.start('tenantWorkflow', {
        workflowId,
        taskQueue: 'osusume-e2e-kill',
        args: [{ tenantId: 'big', runId, heartbeatTimeout: '10s' }],
      });
      const first = spawnWorker(server!, raw);
      workers.push(first);
      // Kill once two chunks of embeddings are on disk (checkpoints a resumed attempt reuses).
      const chunks = await embedChunksWritten(killConfig, runId, 2);
      expect(
        chunks,
        `no embedding checkpoints; worker output:\n${first.output()}`,
      ).toBeGreaterThanOrEqual(2);
      first.child.kill('SIGKILL');
      expect(await first.exited).toBeNull();

      const second = spawnWorker(server!, raw);
      workers.push(second);
      const report = (await handle.result()) as TenantReport;
      const total = report.embedded!.computed + report.embedded!.reused;
      expect(total).toBe(posts.length);
      expect(report.embedded!.reused).toBeGreaterThanOrEqual(chunks * CHUNK_SIZE);
      expect(report.embedded!.computed).toBeLessThan(posts.length);
      // The new worker started from the heartbeat the server kept, not from zero.
      const resumed = second
        .output()
        .split('\n')
        .filter((line) => line.includes('"resuming embedding"'))
        .map((line) => JSON.parse(line) as EmbedProgress);
      expect(resumed).toHaveLength(1);
      expect(resumed[0]!.total).toBe(posts.length);
      // One log format: the SDK's own lines (worker states, bundling) go through osusume's logger.
      const lines = second.output().split('\n').filter(Boolean);
      expect(lines.filter((line) => !line.startsWith('{"severity":'))).toEqual([]);
      expect(lines.some((line) => line.includes('"Worker state changed"'))).toBe(true);

      // The attempt that completed is the second, after the first one's heartbeat timed out.
      const events = (await history(workflowId)).events!;
      const embedScheduled = events.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'embed',
      );
      expect(
        Number(embedScheduled?.activityTaskScheduledEventAttributes?.heartbeatTimeout?.seconds),
      ).toBe(10);
      const [embedStart] = activityStarts(events, 'embed');
      expect(embedStart?.attempt).toBe(2);
      expect(embedStart?.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(
        temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT,
      );
      recorded.set('tenant-workflow-resumed', await history(workflowId));

      second.child.kill('SIGTERM');
      await second.exited;
    } finally {
      dir.cleanup();
    }
  }, 300_000);

  it('replays the histories it recorded against the workflows', async () => {
    expect([...recorded.keys()].sort()).toEqual([
      'batch-workflow',
      'tenant-workflow',
      'tenant-workflow-resumed',
    ]);
    for (const [name, recordedHistory] of recorded) {
      const json = historyToJSON(recordedHistory as never);
      await Worker.runReplayHistory(
        { workflowBundle: bundle },
        historyFromJSON(JSON.parse(json)),
        name,
      );
      if (RECORD) writeFileSync(path.join(FIXTURES, `${name}.json`), json);
    }
  }, 120_000);

  it('names the namespace when it does not exist and says what to do', async () => {
    const wrong = {
      temporal: { ...config.temporal, address: server!.address, namespace: 'no-such-ns' },
    };
    await expect(connectTemporal(wrong, (o) => Connection.connect(o))).rejects.toThrow(
      /Namespace "no-such-ns" does not exist on the Temporal server at .*TEMPORAL_NAMESPACE.*namespace create/,
    );
    await expect(connectTemporal(wrong, (o) => NativeConnection.connect(o))).rejects.toThrow(
      /Namespace "no-such-ns" does not exist/,
    );
  });
});
