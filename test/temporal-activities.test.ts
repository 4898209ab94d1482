/** The Temporal activities on real engines, inside MockActivityEnvironment: heartbeats, cancellation, resume. */
import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openContext, type StepContext } from '../activities/context.js';
import { CHUNK_SIZE, type EmbedProgress } from '../activities/embed.js';
import { createActivities } from '../activities/temporal.js';
import { runArtifact } from '../core/artifacts.js';
import type { Config } from '../core/config.js';
import { loadPosts, tempDir, testConfig, topicPosts, variedDemoPosts } from './helpers/fixtures.js';

/** MockActivityEnvironment.run with the activity's own argument and result types. */
function run<F extends (...args: never[]) => Promise<unknown>>(
  env: MockActivityEnvironment,
  fn: F,
  ...args: Parameters<F>
): ReturnType<F> {
  return env.run(fn as never, ...(args as never[])) as ReturnType<F>;
}

let tmp: ReturnType<typeof tempDir>;
let config: Config;
let ctx: StepContext;
const posts = topicPosts('acme', CHUNK_SIZE * 2 + 50, 9).map((p, i) => ({
  ...p,
  body: `${p.body} n${i}`,
}));

beforeEach(async () => {
  tmp = tempDir();
  config = testConfig(tmp.dir, { pipeline: { minPostsForEmbedding: 5, purgeGraceDays: 0 } });
  await loadPosts(config, posts);
  ctx = await openContext(config);
});
afterEach(async () => {
  await ctx.close();
  tmp.cleanup();
});

describe('activities in MockActivityEnvironment', () => {
  it('embed heartbeats its progress, stops when cancelled, and the retry resumes after the last heartbeat', async () => {
    const activities = createActivities(async () => ctx);
    const extract = await run(new MockActivityEnvironment(), activities.extract, {
      tenantId: 'acme',
      runId: 'r1',
    });
    const input = { tenantId: 'acme', runId: 'r1', snapshotUri: extract.snapshotUri };

    const first = new MockActivityEnvironment({ attempt: 1 });
    const beats: EmbedProgress[] = [];
    first.on('heartbeat', (d: EmbedProgress) => {
      beats.push(d);
      if (d.chunks === 1) first.cancel('CANCELLED');
    });
    await expect(run(first, activities.embed, input)).rejects.toBeInstanceOf(CancelledFailure);
    const last = beats.at(-1)!;
    expect(last).toMatchObject({ total: posts.length, chunks: 1, done: CHUNK_SIZE });

    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: last });
    const result = await run(retry, activities.embed, input);
    expect(result).toMatchObject({
      count: posts.length,
      computed: posts.length - CHUNK_SIZE,
      reused: CHUNK_SIZE,
    });
  });

  it('embed heartbeats while the tenant trains its own model, and a worker shutdown stops the training', async () => {
    // A tenant whose training takes seconds (no model.dir: every tenant trains its own).
    await ctx.close();
    await loadPosts(config, variedDemoPosts('big', 2000));
    ctx = await openContext(config);
    const activities = createActivities(async () => ctx);
    const extract = await run(new MockActivityEnvironment(), activities.extract, {
      tenantId: 'big',
      runId: 'r1',
    });
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d) => {
      beats.push(d);
      env.cancel('WORKER_SHUTDOWN');
    });
    await expect(
      run(env, activities.embed, {
        tenantId: 'big',
        runId: 'r1',
        snapshotUri: extract.snapshotUri,
      }),
    ).rejects.toBeInstanceOf(CancelledFailure);
    expect(beats[0]).toMatchObject({ training: { stage: 'tokenise', total: 2000 } });
    // It stopped training: no model was stored.
    const model = runArtifact(ctx.artifacts, 'r1', 'big', 'model');
    expect(await ctx.artifacts.exists(`${model}/model.onnx`)).toBe(false);
  });

  it('a step without checkpoints gives its attempt up when the worker stops (WORKER_SHUTDOWN)', async () => {
    // The step is still at work (here: waiting for its context) when the worker, told to stop,
    // cancels its running steps past temporal.shutdownGraceTime.
    const activities = createActivities(() => new Promise<StepContext>(() => {}));
    const env = new MockActivityEnvironment();
    const running = run(env, activities.lexical, {
      tenantId: 'acme',
      runId: 'r1',
      snapshotUri: 'file:///never-read',
    });
    env.cancel('WORKER_SHUTDOWN');
    await expect(running).rejects.toThrow(
      expect.objectContaining({ name: 'CancelledFailure', message: 'WORKER_SHUTDOWN' }),
    );
  }, 10_000);

  it('neighbours heartbeat, and the whole tenant completes through the activities', async () => {
    const a = createActivities(async () => ctx);
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d) => beats.push(d));
    const extract = await run(env, a.extract, { tenantId: 'acme', runId: 'r1' });
    const embed = await run(env, a.embed, {
      tenantId: 'acme',
      runId: 'r1',
      snapshotUri: extract.snapshotUri,
    });
    const neighbours = await run(env, a.neighbours, {
      tenantId: 'acme',
      runId: 'r1',
      snapshotUri: extract.snapshotUri,
      embeddingsUri: embed.embeddingsUri,
    });
    expect(beats.at(-1)).toEqual({ done: posts.length, total: posts.length });
    const lists = await run(env, a.storeLists, {
      tenantId: 'acme',
      version: 'r1',
      algorithm: 'embedding',
      listsUri: neighbours.listsUri,
    });
    await run(env, a.activate, {
      tenantId: 'acme',
      version: 'r1',
      algorithms: ['embedding'],
      lists,
      state: { snapshotUri: extract.snapshotUri },
    });
    expect((await ctx.store.getList('acme', 'embedding', posts[0]!.postId))?.items).toHaveLength(
      20,
    );
  });

  it('plans runs: new tenants are picked up, vanished ones are purged after the grace period', async () => {
    const a = createActivities(async () => ctx);
    const env = new MockActivityEnvironment();
    await ctx.store.writeLists('vanished', 'r0', 'embedding', [{ postId: 'x', items: [] }]);
    await ctx.store.activate(
      'vanished',
      { version: 'r0', activatedAt: '', algorithms: ['embedding'], lists: 1 },
      2,
    );
    const plan = await run(env, a.planRun, { runId: 'r1' });
    expect(plan).toMatchObject({ tenants: 1, retired: ['vanished'] });
    expect(
      await run(env, a.readTenants, { tenantsUri: plan.tenantsUri, offset: 0, limit: 10 }),
    ).toEqual(['acme']);
    await run(env, a.purgeTenant, { tenantId: 'vanished' });
    expect(await ctx.store.getActive('vanished')).toBeNull();
    expect((await run(env, a.planRun, { runId: 'r2' })).retired).toEqual([]);
  });
});
