/**
 * The main job's fallback runs the workflows' flows in process. It must store exactly what the
 * steps store when called one by one, by hand.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openContext, type StepContext } from '../activities/context.js';
import { embedPosts } from '../activities/embed.js';
import { extractPosts } from '../activities/extract.js';
import { computeNeighbours } from '../activities/neighbours.js';
import { computePopular } from '../activities/popular.js';
import { activateVersion, storeLists, storePopular } from '../activities/publish.js';
import { runBatch } from '../scripts/batch.js';
import { loadPosts, tempDir, testConfig, topicPosts } from './helpers/fixtures.js';

const posts = [...topicPosts('big', 80, 3), ...topicPosts('small', 4, 4)];
let dirs: ReturnType<typeof tempDir>[] = [];
let contexts: StepContext[] = [];

async function freshContext(): Promise<StepContext> {
  const tmp = tempDir();
  dirs.push(tmp);
  const config = testConfig(tmp.dir);
  // The embedding path has the most steps to compare.
  writeFileSync(config.experimentsFile, 'defaultAlgorithm: embedding\n');
  await loadPosts(config, posts);
  const ctx = await openContext(config);
  contexts.push(ctx);
  return ctx;
}

beforeEach(() => {
  dirs = [];
  contexts = [];
});
afterEach(async () => {
  for (const c of contexts) await c.close();
  for (const d of dirs) d.cleanup();
});

async function byHand(ctx: StepContext, tenantId: string, runId: string): Promise<void> {
  const extract = await extractPosts(ctx, { tenantId, runId });
  const small = extract.mode === 'popular';
  const popular = await computePopular(ctx, {
    tenantId,
    runId,
    snapshotUri: extract.snapshotUri,
    perPostLists: small,
  });
  let listsUri = popular.listsUri!;
  if (!small) {
    const embedded = await embedPosts(ctx, { tenantId, runId, snapshotUri: extract.snapshotUri });
    listsUri = (
      await computeNeighbours(ctx, {
        tenantId,
        runId,
        snapshotUri: extract.snapshotUri,
        embeddingsUri: embedded.embeddingsUri,
      })
    ).listsUri;
  }
  await storePopular(ctx, { tenantId, version: runId, popularUri: popular.popularUri });
  const lists = await storeLists(ctx, {
    tenantId,
    version: runId,
    algorithm: small ? 'popular' : 'embedding',
    listsUri,
  });
  await activateVersion(ctx, {
    tenantId,
    version: runId,
    algorithms: [small ? 'popular' : 'embedding'],
    lists,
    state: { snapshotUri: extract.snapshotUri },
  });
}

it('the in-process batch stores the same lists as the steps called by hand', async () => {
  const flow = await freshContext();
  const hand = await freshContext();
  const result = await runBatch(flow, { runId: 'r1' });
  expect(result.report).toMatchObject({ tenants: 2, succeeded: 2, failedCount: 0 });
  for (const t of ['big', 'small']) await byHand(hand, t, 'r1');

  let compared = 0;
  for (const p of posts) {
    const algorithm = p.tenantId === 'big' ? 'embedding' : 'popular';
    const a = await flow.store.getList(p.tenantId, algorithm, p.postId);
    expect(a?.items.length).toBeGreaterThan(0);
    expect(a).toEqual(await hand.store.getList(p.tenantId, algorithm, p.postId));
    compared += 1;
  }
  expect(compared).toBe(84);
  expect(await flow.store.getPopular('big')).toEqual(await hand.store.getPopular('big'));
});
