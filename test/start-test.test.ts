/**
 * Starting a test the same day, as a user does it, on demo data (two Debian manual tenants):
 * edit experiments.yaml, validate, compute what it newly needs, and see the first enrolled
 * exposure from the real API. Prints the lead time (BENCHMARKS.md records it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContext } from '../activities/context.js';
import { createClient } from '../api/client.js';
import { startServer, type RunningServer } from '../api/server.js';
import type { Config } from '../core/config.js';
import { loadExperiments } from '../core/experiments.js';
import { openStore } from '../core/store/index.js';
import { openWarehouse } from '../core/warehouse/index.js';
import { addApiKey } from '../scripts/api-key.js';
import { runBatch } from '../scripts/batch.js';
import { startTestLocally } from '../scripts/start-test.js';
import { readinessLines } from '../scripts/validate.js';
import { loadPosts, tempDir, testConfig } from './helpers/fixtures.js';

const TENANTS = ['en-man2', 'ja-man2'];
const tmp = tempDir();
let config: Config;
let server: RunningServer;
let key: string;

const demoPosts = readFileSync(new URL('../demo/posts.jsonl.gz', import.meta.url));
const posts = gunzipSync(demoPosts)
  .toString('utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { tenantId: string; postId: string; createdAt: string })
  .filter((p) => TENANTS.includes(p.tenantId))
  .map((p) => ({ ...p, updatedAt: p.createdAt }));

beforeAll(async () => {
  config = testConfig(tmp.dir, {
    experimentsFile: 'experiments.yaml',
    pipeline: { minPostsForEmbedding: 20 },
    api: { reloadSeconds: 0.2, logsDir: 'logs' },
  });
  writeFileSync(config.experimentsFile, 'defaultAlgorithm: fielded\n');
  await loadPosts(config, posts);
  const ctx = await openContext(config);
  await runBatch(ctx, { runId: '20261130T000000Z', tenants: TENANTS });
  await ctx.close();
  key = addApiKey(config.api.keysFile, 'backend', ['*']);
  server = await startServer(config, 0);
}, 300_000);
afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

const EXPERIMENT = `defaultAlgorithm: fielded
experiments:
  - id: footer-embedding
    surface: post-footer
    tenants: [${TENANTS.join(', ')}]
    variants:
      - { name: control, algorithm: fielded, weight: 1 }
      - { name: embedding, algorithm: embedding, weight: 1 }
`;

describe('start a test the same day (demo tenants)', () => {
  it('edit, validate, compute only what is new, first enrolled exposure', async () => {
    const client = createClient({ baseUrl: server.url, apiKey: key });
    const post = posts.find((p) => p.tenantId === 'ja-man2')!.postId;
    const ask = (userId: string) =>
      client.related('ja-man2', post, { userId, surface: 'post-footer', limit: 5 });
    const store = openStore(config.store);
    const before = await store.getActive('ja-man2');
    const fieldedBefore = await store.getListAt('ja-man2', before!.version, 'fielded', post);
    await store.close();

    const started = performance.now();
    // 1. Edit the file.
    writeFileSync(config.experimentsFile, EXPERIMENT);
    // 2. Validate: valid, and both tenants are not ready yet.
    const file = loadExperiments(config.experimentsFile);
    const warnings = await readinessLines(config, file);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /experiment "footer-embedding" is not ready for 2 tenants.*en-man2 \(active version 20261130T000000Z has no embedding lists\); ja-man2/,
    );
    await new Promise((r) => setTimeout(r, 500));
    const early = await ask('user-1');
    expect(early).toMatchObject({ experiment: null, algorithm: 'fielded' });

    // 3. Compute only what is new, for the tenants an experiment is not ready for.
    const reports = await startTestLocally(config, undefined, '20261130T010000Z');
    expect(reports.map((r) => [r.tenantId, r.computed, r.algorithms])).toEqual(
      TENANTS.map((t) => [t, ['embedding'], ['embedding', 'fielded', 'popular']]),
    );

    // 4. The first enrolled exposure.
    let enrolled;
    for (let attempt = 0; attempt < 50 && !enrolled; attempt++) {
      const body = await ask(`user-${attempt}`);
      if (body.experiment === 'footer-embedding' && body.variant === 'embedding') enrolled = body;
      else await new Promise((r) => setTimeout(r, 100));
    }
    const leadSeconds = (performance.now() - started) / 1000;
    expect(enrolled).toMatchObject({
      version: '20261130T010000Z',
      algorithm: 'embedding',
      fallback: false,
    });
    console.log(`start-test lead time on ${TENANTS.join(' + ')}: ${leadSeconds.toFixed(1)} s`);

    // The carried lists are the active version's, unchanged, and that version is untouched.
    const after = openStore(config.store);
    expect(await after.getListAt('ja-man2', '20261130T010000Z', 'fielded', post)).toEqual(
      fieldedBefore,
    );
    expect(await after.getListAt('ja-man2', before!.version, 'fielded', post)).toEqual(
      fieldedBefore,
    );
    expect(await after.getListAt('ja-man2', before!.version, 'embedding', post)).toBeNull();
    expect(await after.getActive('ja-man2')).toMatchObject({
      version: '20261130T010000Z',
      previous: [before!.version],
    });
    await after.close();

    // Its run record names the model that embedded, as a batch's does (`osusume runs`).
    const warehouse = await openWarehouse(config.warehouse);
    const records = await warehouse.listRunRecords({ tenantId: 'ja-man2', limit: 10 });
    await warehouse.close();
    const record = records.find((r) => r.runId === '20261130T010000Z')!;
    expect(records.find((r) => r.runId === before!.version)!.modelId).toBeNull();
    expect(record.modelId).toEqual(expect.any(String));
    expect(record.metrics.embedded).toBeGreaterThan(0);
    expect(record.artifacts.model).toMatch(/^runs\/20261130T010000Z\//);

    // Nothing is left to compute: a second start changes nothing.
    const again = await startTestLocally(config, undefined, '20261130T020000Z');
    expect(again).toEqual([]);
    const named = await startTestLocally(config, ['ja-man2'], '20261130T020000Z');
    expect(named[0]).toMatchObject({ computed: [], version: '20261130T010000Z' });
  });

  it('says so when the tenant named is in no experiment, changing nothing', async () => {
    // The user forgot ja-man2 in the edit: it said "already has fielded", as if a test ran there.
    writeFileSync(config.experimentsFile, EXPERIMENT.replace(TENANTS.join(', '), 'en-man2'));
    const store = openStore(config.store);
    const before = await store.getActive('ja-man2');
    await store.close();
    const [report] = await startTestLocally(config, ['ja-man2'], '20261130T040000Z');
    expect(report).toMatchObject({
      computed: [],
      version: before!.version,
      skipped: `no experiment of ${config.experimentsFile} that has not ended names ja-man2: add it to an experiment's tenants, then run start-test again`,
    });
  });

  it('refuses a tenant with no active version, changing nothing', async () => {
    await expect(startTestLocally(config, ['nobody'], '20261130T030000Z')).rejects.toThrow(
      /nobody: Tenant "nobody" has no active version: check the spelling against the warehouse's tenants \(osusume batch --list\)/,
    );
  });
});
