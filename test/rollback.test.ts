/**
 * Rollback and `runs` on the real local stack: two batch runs (DuckDB, LMDB), the commands as a
 * user calls them, and the real API serving the rolled-back version.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openContext } from '../activities/context.js';
import { createClient } from '../api/client.js';
import { startServer } from '../api/server.js';
import { loadConfig, type Config } from '../core/config.js';
import { openStore } from '../core/store/index.js';
import { LmdbStore } from '../core/store/lmdb.js';
import { addApiKey } from '../scripts/api-key.js';
import { runBatch } from '../scripts/batch.js';
import { rollbackCommand } from '../scripts/rollback.js';
import { startTestLocally } from '../scripts/start-test.js';
import { runsCommand } from '../scripts/runs.js';
import { emptyPost, loadPosts, tempDir, topicPosts } from './helpers/fixtures.js';

const tmp = tempDir();
let config: Config;
const previousEnv = process.env.OSUSUME_CONFIG;

/** What a command prints, as the user sees it. */
async function printed(command: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  try {
    await command();
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

const broken = emptyPost('broken', 'a');

beforeAll(async () => {
  const file = path.join(tmp.dir, 'osusume.config.yaml');
  writeFileSync(
    file,
    `warehouse: { kind: duckdb, path: warehouse.duckdb }
store: { kind: lmdb, path: store.lmdb }
artifactsDir: artifacts
pipeline: { minPostsForEmbedding: 5 }
api: { reloadSeconds: 0.2, logsDir: logs }
`,
  );
  writeFileSync(path.join(tmp.dir, 'experiments.yaml'), 'defaultAlgorithm: fielded\n');
  process.env.OSUSUME_CONFIG = file;
  config = loadConfig();
  await loadPosts(config, [...topicPosts('acme', 30, 1), ...topicPosts('solo', 8, 3), broken]);
  const ctx = await openContext(config);
  await runBatch(ctx, { runId: 'run-1', tenants: ['acme', 'solo', 'broken'] });
  await ctx.close();
  // The second run sees other posts for acme: its lists differ from run-1's.
  await loadPosts(config, topicPosts('acme', 30, 7), { replace: false });
  const again = await openContext(config);
  await runBatch(again, { runId: 'run-2', tenants: ['acme'] });
  await again.close();
}, 120_000);
afterAll(() => {
  if (previousEnv === undefined) delete process.env.OSUSUME_CONFIG;
  else process.env.OSUSUME_CONFIG = previousEnv;
  tmp.cleanup();
});

describe('runs', () => {
  it('shows the active version per tenant with the kept ones, and failed runs', async () => {
    const text = await printed(() => runsCommand({ limit: 20 }));
    const [active, runs] = text.split('\n\n');
    expect(active).toMatch(/^tenant\s+active version\s+activated\s+algorithms\s+kept for rollback/);
    expect(active).toMatch(/\nacme\s+run-2\s+\S+\s+fielded,popular\s+run-1(\n|$)/);
    expect(active).toMatch(/\nsolo\s+run-1\s+\S+\s+fielded,popular\s+-(\n|$)/);
    expect(runs).toMatch(/\nrun-1\s+broken\s.*FAILED: .*none of its 1 rows is a valid post/);
    expect(runs).toMatch(/\nrun-2\s+acme\s.*\sok(\n|$)/);
    const json = (await printed(() => runsCommand({ limit: 20, tenant: 'broken', json: true })))
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(json[0]).toEqual({ kind: 'active', tenantId: 'broken', active: null });
    expect(json[1]).toMatchObject({
      kind: 'run',
      runId: 'run-1',
      tenantId: 'broken',
      failure: {},
    });
  });

  it('--json: every line says its kind, active versions first, then run records', async () => {
    const lines = (await printed(() => runsCommand({ limit: 20, json: true })))
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; tenantId: string; runId?: string });
    const kinds = lines.map((l) => [l.kind, l.tenantId, l.runId ?? '']);
    expect(kinds.slice(0, 3)).toEqual([
      ['active', 'acme', ''],
      ['active', 'solo', ''],
      ['run', 'acme', 'run-2'],
    ]);
    // run-1's records, in the order their tenants finished.
    expect(kinds.slice(3).sort()).toEqual([
      ['run', 'acme', 'run-1'],
      ['run', 'broken', 'run-1'],
      ['run', 'solo', 'run-1'],
    ]);
  });

  it('a tenant with no runs and no active version is an error saying how to list tenants', async () => {
    for (const json of [false, true])
      await expect(runsCommand({ limit: 20, tenant: 'nope', json })).rejects.toThrow(
        `Tenant "nope" has no recorded runs and no active version: check the spelling against the tenants of the DuckDB warehouse ${path.join(tmp.dir, 'warehouse.duckdb')} (osusume batch --list); a tenant listed there has not run yet (osusume batch --tenant nope runs it).`,
      );
  });
});

describe('rollback', () => {
  it('refuses bad requests with what to do, changing nothing', async () => {
    await expect(rollbackCommand({})).rejects.toThrow(/--tenant ID, or every tenant with --all/);
    await expect(rollbackCommand({ all: true, tenant: 'acme' })).rejects.toThrow(/--all/);
    await expect(rollbackCommand({ tenant: 'broken' })).rejects.toThrow(
      /"broken" has no active version/,
    );
    await expect(rollbackCommand({ tenant: 'acme', to: 'run-9' })).rejects.toThrow(
      /Version run-9 of tenant "acme" is not kept in the store \(kept versions: run-1\); pass one of them with --to/,
    );
    await expect(rollbackCommand({ tenant: 'acme', to: 'run-2' })).rejects.toThrow(
      /run-2 is already active for tenant "acme": nothing to do \(kept versions: run-1\)/,
    );
    await expect(rollbackCommand({ tenant: 'solo' })).rejects.toThrow(
      /"solo" has no previous version to roll back to \(active: run-1; no other version is kept\): fix the cause and run the batch again, or raise pipeline.keepVersions/,
    );
    // solo has one version only: --all checks every tenant first, moves none, and says so.
    await expect(rollbackCommand({ all: true })).rejects.toThrow(
      /^Nothing was rolled back: Tenant "solo" has no previous version .* Roll the others back one at a time with --tenant ID\.$/,
    );
    const store = openStore(config.store);
    expect((await store.getActive('acme'))?.version).toBe('run-2');
    await store.close();
  });

  it('re-activates the previous version atomically; the API serves it within reloadSeconds, and back again', async () => {
    const key = addApiKey(config.api.keysFile, 'test', ['*']);
    const server = await startServer(config, 0);
    const client = createClient({ baseUrl: server.url, apiKey: key });
    const store = openStore(config.store);
    try {
      const post = 'p0003';
      const run1 = await store.getListAt('acme', 'run-1', 'fielded', post);
      const run2 = await store.getListAt('acme', 'run-2', 'fielded', post);
      expect(run1).not.toEqual(run2);
      const served = async () => {
        const body = await client.related('acme', post, { userId: 'u', limit: 5 });
        return { version: body.version, ids: body.items.map((i) => i.postId) };
      };
      expect(await served()).toEqual({
        version: 'run-2',
        ids: run2!.slice(0, 5).map((i) => i.postId),
      });

      const activate = vi.spyOn(LmdbStore.prototype, 'activate');
      expect(await printed(() => rollbackCommand({ tenant: 'acme' }))).toBe(
        'acme: run-2 -> run-1 (fielded, popular); served within 0.2 s.',
      );
      // The store refuses it if another version became active since the plan (store contract).
      expect(activate).toHaveBeenCalledWith(
        'acme',
        expect.objectContaining({ version: 'run-1' }),
        config.pipeline.keepVersions,
        { reactivate: true, replaces: 'run-2' },
      );
      activate.mockRestore();
      expect(await store.getActive('acme')).toMatchObject({
        version: 'run-1',
        algorithms: ['fielded', 'popular'],
        previous: ['run-2'],
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(await served()).toEqual({
        version: 'run-1',
        ids: run1!.slice(0, 5).map((i) => i.postId),
      });

      await printed(() => rollbackCommand({ tenant: 'acme', to: 'run-2' }));
      await new Promise((r) => setTimeout(r, 500));
      expect((await served()).version).toBe('run-2');
    } finally {
      await store.close();
      await server.close();
    }
  });

  it('says which running test stops when it rolls back a start-test version, and that the next batch resumes it', async () => {
    const experiments = path.join(tmp.dir, 'experiments.yaml');
    const footer = `defaultAlgorithm: fielded
experiments:
  - id: footer-lexical
    surface: footer
    tenants: [acme]
    variants: [{ name: control, algorithm: fielded }, { name: lexical, algorithm: lexical }]
`;
    writeFileSync(experiments, footer);
    try {
      await startTestLocally(config, ['acme'], 'run-3');
      // Added after start-test ran: neither version serves it, so no rollback stops it.
      writeFileSync(
        experiments,
        `${footer}  - id: sidebar-embedding
    surface: sidebar
    variants: [{ name: control, algorithm: fielded }, { name: embedding, algorithm: embedding }]
`,
      );
      expect(await printed(() => rollbackCommand({ tenant: 'acme' }))).toBe(
        [
          'acme: run-3 -> run-2 (fielded, popular); served within 0.2 s.',
          `  experiment "footer-lexical" stops for acme: active version run-2 has no lexical lists, so its users get the default. The next batch computes them and the test resumes: to end it, remove it from ${experiments} (or set its end) before then.`,
        ].join('\n'),
      );
      // Rolled forward, nothing stops.
      expect(await printed(() => rollbackCommand({ tenant: 'acme' }))).toBe(
        'acme: run-2 -> run-3 (fielded, lexical, popular); served within 0.2 s.',
      );
      // A file with an error does not stand in the way of a rollback.
      writeFileSync(experiments, 'experiments: [\n');
      expect(await printed(() => rollbackCommand({ tenant: 'acme' }))).toBe(
        'acme: run-3 -> run-2 (fielded, popular); served within 0.2 s.',
      );
    } finally {
      writeFileSync(experiments, 'defaultAlgorithm: fielded\n');
    }
  });
});
