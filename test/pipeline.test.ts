import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openContext, type StepContext } from '../activities/context.js';
import { embedPosts, CHUNK_SIZE } from '../activities/embed.js';
import { extractPosts } from '../activities/extract.js';
import { catchUpTenant, runTenant } from '../scripts/in-process.js';
import { readTenantState } from '../activities/state.js';
import { readJsonLines, tenantFolder, uriName, writeJsonLines } from '../core/artifacts.js';
import { planRun } from '../activities/plan.js';
import { activateVersion } from '../activities/publish.js';
import { contentHash, type SnapshotPost } from '../core/posts.js';
import { decodeVectors } from '../core/vectors.js';
import { fieldedLists } from '../activities/lexical.js';
import type { Config } from '../core/config.js';
import { formatSummary, runBatch } from '../scripts/batch.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';
import {
  emptyPost,
  loadPosts,
  tempDir,
  testConfig,
  topicPosts,
  type GeneratedPost,
  writeJsonl,
  writeTestBertModel,
} from './helpers/fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let config: Config;
let ctx: StepContext;
const acme = topicPosts('acme', 60, 1);
const tiny = topicPosts('tiny', 3, 2);

/** Changes the warehouse between runs; the context is reopened (DuckDB allows one opener). */
async function load(rows: unknown[], replace = true): Promise<void> {
  await ctx.close();
  await loadPosts(config, rows, { replace });
  ctx = await openContext(config);
}

const topicOf = new Map(acme.map((p) => [p.postId, p.topic]));
async function sameTopicShare(tenant: string, posts: GeneratedPost[]): Promise<number> {
  let same = 0;
  let all = 0;
  for (const p of posts) {
    for (const item of (await ctx.store.getList(tenant, 'embedding', p.postId))?.items.slice(
      0,
      5,
    ) ?? []) {
      all += 1;
      if (topicOf.get(item.postId) === p.topic) same += 1;
    }
  }
  return same / all;
}

beforeEach(async () => {
  tmp = tempDir();
  config = testConfig(tmp.dir, { neighbours: { k: 10 } });
  // Most of these tests are about the embedding path (resume, reuse, versions).
  writeFileSync(config.experimentsFile, 'defaultAlgorithm: embedding\n');
  ctx = await openContext(config);
});
afterEach(async () => {
  await ctx.close();
  tmp.cleanup();
});

describe('local batch pipeline', () => {
  it('runs every tenant, counts bad rows, and serves sensible lists', async () => {
    const big = 'x'.repeat(config.pipeline.maxPostChars + 1);
    await load([
      ...acme,
      ...tiny,
      '{broken json',
      { ...acme[0], postId: 'empty', title: '', body: '  ' },
      { ...acme[1], postId: 'huge', body: big },
      { ...acme[2], postId: 'bad id with spaces' },
      { ...acme[3], title: 'edited later', updatedAt: '2025-01-01T00:00:00Z' },
      { ...acme[4], postId: 'gone', deleted: true },
    ]);
    const result = await runBatch(ctx, { runId: 'run-1' });
    expect(result.failed).toEqual([]);
    const [acmeReport, tinyReport] = result.succeeded;
    expect(acmeReport!.mode).toBe('lists');
    expect(acmeReport!.extract.posts).toBe(60);
    expect(acmeReport!.extract.skipped).toEqual({
      empty: 1,
      'too-large': 1,
      malformed: 1,
      'duplicate-id': 1,
    });
    expect(tinyReport!.mode).toBe('popular');
    // No model.dir, none in the default folder: acme trained its own (tiny gets popular lists).
    expect(result.report.embeddedBy).toEqual({ pretrained: {}, perTenant: 1 });
    expect(formatSummary(result).split('\n')[1]).toBe(
      "embedded with per-tenant models, each trained on its tenant's posts (1 tenant)",
    );

    const list = await ctx.store.getList('acme', 'embedding', acme[5]!.postId);
    expect(list?.version).toBe('run-1');
    expect(list?.items).toHaveLength(10);
    expect(list?.items.map((i) => i.postId)).not.toContain(acme[5]!.postId);
    expect(await sameTopicShare('acme', acme.slice(4))).toBeGreaterThan(0.8);
    // The duplicate row with the later updatedAt won.
    expect(
      (await ctx.store.getList('tiny', 'popular', tiny[0]!.postId))?.items
        .map((i) => i.postId)
        .sort(),
    ).toEqual([tiny[1]!.postId, tiny[2]!.postId].sort());
    expect((await ctx.store.getPopular('acme'))?.items.length).toBe(60);
    const [run] = await ctx.warehouse.listRunRecords({ tenantId: 'acme', limit: 1 });
    expect(run).toMatchObject({
      runId: 'run-1',
      codeVersion: expect.stringMatching(/^osusume@/),
      modelId: acmeReport!.embedded!.modelId,
      params: { algorithms: ['embedding', 'popular'], k: 10 },
      inputs: { posts: 60, skipped: 4 },
      metrics: { lists: 60, modelTrainSeconds: expect.any(Number), modelBytes: expect.any(Number) },
      artifacts: {
        snapshot: acmeReport!.extract.snapshotUri,
        model: expect.stringContaining('/model'),
      },
    });
  });

  it('gives posts without terms no embedding list and lists none of them, and runs a tenant of copies', async () => {
    const wordless = ['🎉🎉', '!!! ???', 'a', 'の を に', 'x'.repeat(5000)].map((body, i) => ({
      ...acme[i]!,
      postId: `wordless-${i}`,
      title: '',
      body,
    }));
    const copies = Array.from({ length: 6 }, (_, i) => ({
      ...acme[0]!,
      tenantId: 'copies',
      postId: `copy-${i}`,
    }));
    await load([...acme, ...wordless, ...copies]);
    const result = await runBatch(ctx, { runId: 'run-1' });
    expect(result.failed).toEqual([]);
    for (const p of wordless)
      expect((await ctx.store.getList('acme', 'embedding', p.postId))?.items).toEqual([]);
    const listed = new Set<string>();
    for (const p of acme)
      for (const item of (await ctx.store.getList('acme', 'embedding', p.postId))!.items)
        listed.add(item.postId);
    expect(wordless.filter((p) => listed.has(p.postId))).toEqual([]);
    expect(listed.size).toBeGreaterThan(50);
    // Its one text shares no term with another: no model terms, and copies are never listed.
    expect((await ctx.store.getList('copies', 'embedding', 'copy-1'))?.items).toEqual([]);
  });

  it('reports a failing tenant without stopping the others, and never activates an empty version', async () => {
    await load([...acme, emptyPost('broken', 'a'), emptyPost('bad id', 'b')]);
    const result = await runBatch(ctx, { runId: 'run-1' });
    expect(result.succeeded.map((r) => r.tenantId)).toEqual(['acme']);
    // A tenant id that is not an id is never run, and the summary says so.
    expect(result.report.invalidTenantIds).toBe(1);
    expect(formatSummary(result)).toMatch(
      /NOT RUN: 1 invalid tenant id in the warehouse \(ids are /,
    );
    expect(result.failed).toEqual([
      {
        tenantId: 'broken',
        step: 'extract',
        error: expect.stringMatching(/none of its 1 rows is a valid post.*empty/),
      },
    ]);
    expect(await ctx.store.getActive('broken')).toBeNull();
    await expect(runTenant(ctx, { tenantId: 'nobody', runId: 'run-1' })).rejects.toThrow(
      /has no posts in the warehouse/,
    );
    await expect(runTenant(ctx, { tenantId: 'bad id', runId: 'run-1' })).rejects.toThrow(
      /Invalid tenant id/,
    );
  });

  it('records a failed run for every failed tenant, beyond the 100 the report names', async () => {
    const broken = Array.from({ length: 120 }, (_, i) => `broken-${String(i).padStart(3, '0')}`);
    await load(broken.map((t) => emptyPost(t, 'a')));
    const result = await runBatch(ctx, { runId: 'run-1', progress: 'tenants' });
    const records = await ctx.warehouse.listRunRecords({ limit: 1000 });
    const failed = records.filter((r) => r.failure).map((r) => r.tenantId);
    expect(failed.sort()).toEqual(broken);
    expect(result.report.failedCount).toBe(120);
    expect(result.report.failed).toHaveLength(100);
  });

  it('counts exact copies in the report whichever lists are computed, and not posts without an embedding', async () => {
    const copies = [1, 2, 3].map((i) => ({ ...acme[0]!, postId: `copy-${i}` }));
    const wordless = { ...acme[1]!, postId: 'wordless', title: '', body: '🎉🎉' };
    await load([...acme, ...copies, wordless]);
    for (const algorithm of ['fielded', 'embedding']) {
      writeFileSync(config.experimentsFile, `defaultAlgorithm: ${algorithm}\n`);
      const report = await runTenant(ctx, { tenantId: 'acme', runId: `run-${algorithm}` });
      expect({ algorithm, duplicates: report.duplicates }).toEqual({ algorithm, duplicates: 3 });
    }
  });

  it('reads a tenant in full once when its snapshot predates titles, then incrementally again', async () => {
    writeFileSync(config.experimentsFile, 'defaultAlgorithm: fielded\n');
    await load(acme);
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    const fresh = await ctx.store.getList('acme', 'fielded', 'p0007');
    // What an older version of osusume wrote: the same snapshot without titles.
    const state = (await readTenantState(ctx, 'acme'))!;
    const old = await readJsonLines<SnapshotPost>(ctx.artifacts, state.snapshotUri);
    await writeJsonLines(
      ctx.artifacts,
      state.snapshotUri,
      old.map(({ title: _title, ...rest }) => rest),
    );
    const upgraded = await runTenant(ctx, { tenantId: 'acme', runId: 'run-2' });
    expect(upgraded.extract).toMatchObject({ incremental: false, rowsRead: acme.length });
    expect((await ctx.store.getList('acme', 'fielded', 'p0007'))?.items).toEqual(fresh?.items);
    const next = await runTenant(ctx, { tenantId: 'acme', runId: 'run-3' });
    expect(next.extract.incremental).toBe(true);
  });

  it('a damaged tenant state or snapshot reads the tenant in full instead of failing every run', async () => {
    writeFileSync(config.experimentsFile, 'defaultAlgorithm: fielded\n');
    await load(acme);
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    const before = await ctx.store.getList('acme', 'fielded', 'p0007');
    const stateUri = ctx.artifacts.uri('tenants', tenantFolder('acme'), 'state.json');
    const state = String(await ctx.artifacts.read(stateUri));
    await ctx.artifacts.write(stateUri, state.slice(0, 40));
    const afterState = await runTenant(ctx, { tenantId: 'acme', runId: 'run-2' });
    expect(afterState.extract).toMatchObject({ incremental: false, rowsRead: acme.length });
    const { snapshotUri } = (await readTenantState(ctx, 'acme'))!;
    const snapshot = String(await ctx.artifacts.read(snapshotUri));
    await ctx.artifacts.write(snapshotUri, snapshot.slice(0, 5000));
    const afterSnapshot = await runTenant(ctx, { tenantId: 'acme', runId: 'run-3' });
    expect(afterSnapshot.extract).toMatchObject({ incremental: false, posts: acme.length });
    expect((await ctx.store.getList('acme', 'fielded', 'p0007'))?.items).toEqual(before?.items);
    expect((await runTenant(ctx, { tenantId: 'acme', runId: 'run-4' })).extract.incremental).toBe(
      true,
    );
    await ctx.artifacts.remove((await readTenantState(ctx, 'acme'))!.snapshotUri);
    const afterRemoval = await runTenant(ctx, { tenantId: 'acme', runId: 'run-5' });
    expect(afterRemoval.extract).toMatchObject({ incremental: false, posts: acme.length });
  });

  it('a truncated embeddings file of the last run is computed again, not read as zeros', async () => {
    await load(acme);
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    const before = await ctx.store.getList('acme', 'embedding', 'p0007');
    const { embeddingsUri } = (await readTenantState(ctx, 'acme'))!;
    const whole = await ctx.artifacts.read(embeddingsUri!);
    await ctx.artifacts.write(embeddingsUri!, whole.subarray(0, whole.length - 1000));
    const next = await runTenant(ctx, { tenantId: 'acme', runId: 'run-2' });
    expect(next.embedded).toMatchObject({ computed: acme.length, reused: 0 });
    expect((await ctx.store.getList('acme', 'embedding', 'p0007'))?.items).toEqual(before?.items);
  });

  it('a run that fails halfway changes nothing that is served, and the retry picks up', async () => {
    await load(acme);
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    const before = await ctx.store.getList('acme', 'embedding', 'p0007');
    const stateBefore = await readTenantState(ctx, 'acme');

    await load(
      [
        ...acme
          .slice(0, 10)
          .map((p) => ({ ...p, body: `${p.body} new words`, updatedAt: '2025-01-01T00:00:00Z' })),
      ],
      false,
    );
    const writeLists = ctx.store.writeLists.bind(ctx.store);
    let writes = 0;
    ctx.store.writeLists = async (...args) => {
      if (++writes > 0) throw new Error('store went away');
      return writeLists(...args);
    };
    await expect(runTenant(ctx, { tenantId: 'acme', runId: 'run-2' })).rejects.toThrow(
      'store went away',
    );
    ctx.store.writeLists = writeLists;
    expect(await ctx.store.getList('acme', 'embedding', 'p0007')).toEqual(before);
    expect(await readTenantState(ctx, 'acme')).toEqual(stateBefore);

    const retry = await runTenant(ctx, { tenantId: 'acme', runId: 'run-2' });
    expect(retry.extract.incremental).toBe(true);
    // The 10 changed rows, plus the row at the watermark itself (read with >=, merged idempotently).
    expect(retry.extract.rowsRead).toBe(11);
    // The failed attempt had embedded the 10 changed posts already; the retry reuses its chunks.
    expect(retry.embedded).toMatchObject({ computed: 0, reused: 60 });
    expect((await ctx.store.getList('acme', 'embedding', 'p0007'))?.version).toBe('run-2');
    expect((await readTenantState(ctx, 'acme'))?.watermark).toBe('2025-01-01T00:00:00.000Z');
  });

  it('a re-run of an activated run id changes nothing; replaced versions and unreferenced artifacts are collected', async () => {
    await ctx.close();
    config = testConfig(tmp.dir, {
      neighbours: { k: 10 },
      pipeline: { minPostsForEmbedding: 5, supersededGraceSeconds: 0.3, abandonedGraceHours: 0 },
      api: { reloadSeconds: 0.1, storeTimeoutMs: 10 },
    });
    ctx = await openContext(config);
    await load(acme);
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    const first = await ctx.store.getList('acme', 'embedding', 'p0003');
    const victim = first!.items[0]!.postId;
    await load(
      [
        {
          ...acme.find((p) => p.postId === victim),
          deleted: true,
          updatedAt: '2025-02-01T00:00:00Z',
        },
      ],
      false,
    );
    // The data changed, but run-1 is served: it stays exactly what it was.
    const again = await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    expect(again).toMatchObject({ alreadyActivated: true, lists: 0, collectedVersions: [] });
    expect(await ctx.store.getList('acme', 'embedding', 'p0003')).toEqual(first);
    expect(await ctx.store.getListAt('acme', 'run-1', 'embedding', victim)).not.toBeNull();

    const second = await runTenant(ctx, { tenantId: 'acme', runId: 'run-2' });
    expect(second.extract.deleted).toBe(1);
    expect(second.extract.posts).toBe(59);
    expect(await ctx.store.getList('acme', 'embedding', victim)).toBeNull();
    expect(
      (await ctx.store.getList('acme', 'embedding', 'p0003'))?.items.map((i) => i.postId),
    ).not.toContain(victim);

    // A crashed run that is never re-run (abandoned at once with a grace of 0 hours).
    await ctx.store.writeLists('acme', 'crashed', 'embedding', [{ postId: 'x', items: [] }]);
    await ctx.artifacts.write(
      ctx.artifacts.uri('runs', 'crashed', tenantFolder('acme'), 'snapshot.jsonl'),
      '',
    );
    await new Promise((r) => setTimeout(r, 400)); // run-1 was replaced longer ago than the grace
    const third = await runTenant(ctx, { tenantId: 'acme', runId: 'run-3' });
    expect(third.collectedVersions).toEqual(['crashed', 'run-1']);
    // An earlier attempt of run-4 wrote a list of a post that is gone when run-4 runs again.
    await ctx.store.writeLists('acme', 'run-4', 'embedding', [{ postId: 'ghost', items: [] }]);
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-4' });
    expect(await ctx.store.getListAt('acme', 'run-4', 'embedding', 'ghost')).toBeNull();
    const versions = (await ctx.store.listVersions('acme')).map((v) => v.version);
    expect(versions).not.toContain('run-1');
    expect(versions).toContain('run-3');
    const tenantRuns = [];
    for (const run of await ctx.artifacts.list(ctx.artifacts.uri('runs')))
      if ((await ctx.artifacts.list(run)).length > 0) tenantRuns.push(uriName(run));
    // run-2 was replaced by run-4 just now: collected or not, depending on the machine's speed.
    expect(tenantRuns).toEqual(versions);
    // The next batch's plan removes the run folders left empty.
    await planRun(ctx, { runId: 'run-5' });
    expect((await ctx.artifacts.list(ctx.artifacts.uri('runs'))).map(uriName)).toEqual([
      ...versions,
      'run-5',
    ]);
  });

  it('an activate step run again (a Temporal retry, a Reset of an old run) never brings back a replaced version', async () => {
    await load(acme);
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    const stateOfRun1 = await readTenantState(ctx, 'acme');
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-2' });
    const served = await ctx.store.getActive('acme');
    const state = await readTenantState(ctx, 'acme');
    const again = (version: string) =>
      activateVersion(ctx, {
        tenantId: 'acme',
        version,
        algorithms: ['embedding', 'popular'],
        lists: 60,
        state: { snapshotUri: stateOfRun1!.snapshotUri },
      });
    await expect(again('run-1')).rejects.toThrow(
      /replaced by run-2.*osusume rollback --tenant acme --to run-1/,
    );
    expect(await ctx.store.getActive('acme')).toEqual(served);
    expect(await readTenantState(ctx, 'acme')).toEqual(state);
    // The active version's own step, retried after it had activated: it goes ahead.
    expect((await again('run-2')).active).toMatchObject({ version: 'run-2', previous: ['run-1'] });
  });

  it('a version built on an active one that was replaced meanwhile (start-test during a nightly run) is not activated', async () => {
    await load(acme);
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    const builtOnRun1 = await readTenantState(ctx, 'acme');
    await ctx.store.writeLists('acme', 'start-1', 'embedding', [{ postId: 'a', items: [] }]);
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-2' });
    const served = await ctx.store.getActive('acme');
    const activate = (replaces: string) =>
      activateVersion(ctx, {
        tenantId: 'acme',
        version: 'start-1',
        replaces,
        algorithms: ['embedding', 'popular'],
        lists: 1,
        state: { snapshotUri: builtOnRun1!.snapshotUri },
      });
    await expect(activate('run-1')).rejects.toThrow(
      /built on version run-1, but run-2 became active meanwhile.*Run start-test again/,
    );
    expect(await ctx.store.getActive('acme')).toEqual(served);
    expect((await activate('run-2')).active).toMatchObject({ version: 'start-1' });
  });

  it('a nightly run activated between start-test’s decision and its write is kept: the store refuses start-test’s version in its transaction', async () => {
    await load(acme);
    await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    const builtOnRun1 = await readTenantState(ctx, 'acme');
    for (const version of ['start-1', 'run-2'])
      await ctx.store.writeLists('acme', version, 'embedding', [{ postId: 'a', items: [] }]);
    const activate = (c: StepContext, version: string, replaces?: string) =>
      activateVersion(c, {
        tenantId: 'acme',
        version,
        ...(replaces ? { replaces } : {}),
        algorithms: ['embedding'],
        lists: 1,
        state: { snapshotUri: builtOnRun1!.snapshotUri },
      });
    // The nightly run's activate step runs when start-test's store call has begun, after every
    // check start-test could make outside the store's transaction.
    const store = ctx.store;
    const racing = new Proxy(store, {
      get: (target, key) =>
        key === 'activate'
          ? async (...args: Parameters<typeof store.activate>) => {
              await activate(ctx, 'run-2');
              return store.activate(...args);
            }
          : Reflect.get(target, key),
    });
    await expect(activate({ ...ctx, store: racing }, 'start-1', 'run-1')).rejects.toThrow(
      /built on version run-1, but run-2 became active meanwhile.*Run start-test again/,
    );
    expect(await ctx.store.getActive('acme')).toMatchObject({
      version: 'run-2',
      previous: ['run-1'],
    });
    const start1 = (await ctx.store.listVersions('acme')).find((v) => v.version === 'start-1');
    expect(start1?.activatedAt).toBeUndefined();
    expect((await readTenantState(ctx, 'acme'))?.version).toBe('run-2');
  });

  it('computes only what the experiments file serves: no embeddings when nothing uses them', async () => {
    await load(acme);
    writeFileSync(config.experimentsFile, 'defaultAlgorithm: popular\n');
    const report = await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    expect(report).toMatchObject({ mode: 'popular', lists: 60 });
    expect(report.embedded).toBeUndefined();
    writeFileSync(
      config.experimentsFile,
      'defaultAlgorithm: popular\nexperiments:\n  - { id: t, surface: s, tenants: [acme], variants: [{ name: e, algorithm: embedding }] }\n',
    );
    expect((await runTenant(ctx, { tenantId: 'acme', runId: 'run-2' })).algorithms).toEqual([
      'embedding',
    ]);
    writeFileSync(
      config.experimentsFile,
      'experiments:\n  - { id: t, surface: s, variants: [{ name: a, algorithm: embedding }, { name: b, algorithm: lexical }, { name: c, algorithm: hybrid }] }\n',
    );
    const both = await runTenant(ctx, { tenantId: 'acme', runId: 'run-3' });
    expect(both.algorithms).toEqual(['embedding', 'fielded', 'hybrid', 'lexical']);
    expect((await ctx.store.getActive('acme'))?.algorithms).toEqual([
      'embedding',
      'lexical',
      'fielded',
      'hybrid',
      'popular',
    ]);
    const fielded = await ctx.store.getList('acme', 'fielded', acme[5]!.postId);
    expect(fielded?.items).toHaveLength(10);
    expect(fielded?.items.map((i) => i.postId)).not.toContain(acme[5]!.postId);
    expect((await ctx.store.getList('acme', 'hybrid', acme[5]!.postId))?.items).toHaveLength(10);
    const lexical = await ctx.store.getList('acme', 'lexical', acme[5]!.postId);
    expect(lexical?.items).toHaveLength(10);
    expect(lexical?.items.map((i) => i.postId)).not.toContain(acme[5]!.postId);
    await ctx.close();
    const w = await DuckDbWarehouse.open(`${tmp.dir}/warehouse.duckdb`);
    const ts = '2024-02-01T00:00:00Z';
    const events = ['u1', 'u2'].flatMap((userId) =>
      ['p0001', 'p0002'].map((postId) => ({ tenantId: 'acme', userId, postId, type: 'click', ts })),
    );
    await w.importFile('interactions', writeJsonl(`${tmp.dir}/events.jsonl`, events));
    await w.close();
    ctx = await openContext(config);
    writeFileSync(
      config.experimentsFile,
      'experiments:\n  - { id: t, surface: s, variants: [{ name: a, algorithm: coengagement }] }\n',
    );
    const readInteractions = ctx.warehouse.readInteractions.bind(ctx.warehouse);
    let interactionReads = 0;
    ctx.warehouse.readInteractions = (...args) => {
      interactionReads += 1;
      return readInteractions(...args);
    };
    expect((await runTenant(ctx, { tenantId: 'acme', runId: 'run-4' })).algorithms).toEqual([
      'coengagement',
      'fielded',
    ]);
    expect((await ctx.store.getList('acme', 'coengagement', 'p0001'))?.items).toEqual([
      { postId: 'p0002', score: 1 },
    ]);
    // Popularity and co-engagement share one warehouse read (BigQuery bills every scan).
    expect(interactionReads).toBe(1);
  });

  /** The stored fielded lists are fieldedLists with these embeddings in the latent channel. */
  async function expectFieldedFrom(snapshotUri: string, embeddingsUri: string) {
    const posts = await readJsonLines<SnapshotPost>(ctx.artifacts, snapshotUri);
    const file = decodeVectors(await ctx.artifacts.read(embeddingsUri));
    const row = new Map(
      file.keys.map((key, i) => [key, file.data.subarray(i * file.dim, (i + 1) * file.dim)]),
    );
    const latent = (texts: string[]) => {
      const vectors = new Float32Array(texts.length * file.dim);
      texts.forEach((t, j) => vectors.set(row.get(contentHash(t))!, j * file.dim));
      return { vectors, dim: file.dim };
    };
    const expected = fieldedLists(posts, [], 10, config.fielded, latent);
    for (const list of expected)
      expect((await ctx.store.getList('acme', 'fielded', list.postId))?.items).toEqual(list.items);
    // The tenant's own LSA model in the channel instead gives other lists.
    const lsa = fieldedLists(posts, [], 10, { ...config.fielded, latentVectors: 'lsa' });
    const differ = lsa.filter((l, i) => JSON.stringify(l) !== JSON.stringify(expected[i]));
    expect(differ.length).toBeGreaterThan(0);
  }

  async function withEncoderLatent() {
    writeTestBertModel(
      `${tmp.dir}/bert`,
      acme.map((p) => `${p.title} ${p.body}`),
    );
    const fielded = { latent: 0.5, latentVectors: 'embedding' };
    config = testConfig(tmp.dir, { neighbours: { k: 10 }, model: { dir: 'bert' }, fielded });
  }

  it('the default lists read the run\'s embeddings with fielded.latentVectors "embedding", computing them though nothing serves them', async () => {
    await withEncoderLatent();
    writeFileSync(config.experimentsFile, 'defaultAlgorithm: fielded\n');
    await load(acme);
    const result = await runBatch(ctx, { runId: 'run-1' });
    const report = result.succeeded[0]!;
    expect(report.algorithms).toEqual(['fielded']);
    expect(report.embedded).toMatchObject({
      computed: 60,
      modelId: (await ctx.model()).id,
      modelDir: `${tmp.dir}/bert`,
    });
    expect(formatSummary(result)).toContain(
      `\nembedded with the pretrained model in ${tmp.dir}/bert (1 tenant)\n`,
    );
    expect(report.seconds.neighbours).toBeUndefined();
    expect((await ctx.store.getActive('acme'))?.algorithms).toEqual(['fielded', 'popular']);
    const state = await readTenantState(ctx, 'acme');
    await expectFieldedFrom(report.extract.snapshotUri, state!.embeddingsUri!);
    // The run record says which weights made the version.
    const [record] = await ctx.warehouse.listRunRecords({ tenantId: 'acme', limit: 1 });
    expect(record!.params.fielded).toEqual(config.fielded);
  });

  it("the default lists with latent on the tenant's own LSA model: the step trains it with pauses, and stores fieldedLists' lists", async () => {
    const fielded = { latent: 0.5, latentVectors: 'lsa' };
    config = testConfig(tmp.dir, { neighbours: { k: 10 }, fielded });
    writeFileSync(config.experimentsFile, 'defaultAlgorithm: fielded\n');
    // An exact copy: the model trains on each distinct text once, in the snapshot's order.
    await load([...acme, { ...acme[7]!, postId: 'copy' }]);
    const report = await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    expect(report.algorithms).toEqual(['fielded']);
    expect(report.embedded).toBeUndefined();
    const posts = await readJsonLines<SnapshotPost>(ctx.artifacts, report.extract.snapshotUri);
    const expected = fieldedLists(posts, [], 10, config.fielded);
    for (const list of expected)
      expect((await ctx.store.getList('acme', 'fielded', list.postId))?.items).toEqual(list.items);
    // The channel counts: without it the lists differ.
    const without = fieldedLists(posts, [], 10, { ...config.fielded, latent: 0 });
    expect(without.some((l, i) => JSON.stringify(l) !== JSON.stringify(expected[i]))).toBe(true);
  });

  it('starting a test that adds such default lists embeds the active snapshot first', async () => {
    await withEncoderLatent();
    writeFileSync(config.experimentsFile, 'defaultAlgorithm: lexical\n');
    await load(acme);
    const first = await runTenant(ctx, { tenantId: 'acme', runId: 'run-1' });
    expect(first.embedded).toBeUndefined();
    writeFileSync(config.experimentsFile, 'defaultAlgorithm: fielded\n');
    const report = await catchUpTenant(ctx, { tenantId: 'acme', version: 'run-2' });
    expect(report.computed).toEqual(['fielded']);
    const state = await readTenantState(ctx, 'acme');
    expect(state).toMatchObject({ version: 'run-2' });
    await expectFieldedFrom(state!.snapshotUri, state!.embeddingsUri!);
  });

  it('embedding resumes from the chunks a crashed attempt wrote', async () => {
    const many = topicPosts('many', CHUNK_SIZE * 2 + 100, 5).map((p, i) => ({
      ...p,
      body: `${p.body} n${i}`,
    }));
    await load(many);
    const extract = await extractPosts(ctx, { tenantId: 'many', runId: 'run-1' });
    const input = { tenantId: 'many', runId: 'run-1', snapshotUri: extract.snapshotUri };
    const beats: number[] = [];
    await expect(
      embedPosts(ctx, input, (p) => {
        beats.push(p.done);
        if (p.chunks === 1) throw new Error('worker crashed');
      }),
    ).rejects.toThrow('worker crashed');
    expect(beats.at(-1)).toBe(CHUNK_SIZE);
    const resumed = await embedPosts(ctx, input);
    expect(resumed).toMatchObject({
      count: many.length,
      computed: many.length - CHUNK_SIZE,
      reused: CHUNK_SIZE,
    });
  });
});
