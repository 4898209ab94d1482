/**
 * The result viewer end to end: headless Chromium (playwright-core, Debian's chromium) on the
 * page the real API serves, over real demo lists (Debian manual pages of en-man2) and real logs
 * of a running experiment. Keeps a screenshot in .osusume/test-artifacts/viewer.png.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContext } from '../activities/context.js';
import { createClient } from '../api/client.js';
import { startServer, type RunningServer } from '../api/server.js';
import type { Config } from '../core/config.js';
import { openStore } from '../core/store/index.js';
import { addApiKey } from '../scripts/api-key.js';
import { runBatch } from '../scripts/batch.js';
import { artifactPath, haveChromium, launchChromium } from './helpers/chromium.js';
import { loadPosts, tempDir, testConfig } from './helpers/fixtures.js';

if (!haveChromium) console.warn('SKIPPED: viewer test: no /usr/bin/chromium (npm run setup).');

const TENANT = 'en-man2';
const POST = 'open.2';
const tmp = tempDir();
let config: Config;
let server: RunningServer;
let admin: string;
let scoped: string;

const posts = gunzipSync(readFileSync(new URL('../demo/posts.jsonl.gz', import.meta.url)))
  .toString('utf8')
  .trim()
  .split('\n')
  .map(
    (l) => JSON.parse(l) as { tenantId: string; postId: string; title: string; createdAt: string },
  )
  .filter((p) => p.tenantId === TENANT)
  .map((p) => ({ ...p, updatedAt: p.createdAt }));
const titleOf = new Map(posts.map((p) => [p.postId, p.title]));

beforeAll(async () => {
  if (!haveChromium) return;
  config = testConfig(tmp.dir, {
    experimentsFile: 'experiments.yaml',
    pipeline: { minPostsForEmbedding: 20 },
    api: { reloadSeconds: 0.2, logsDir: 'logs' },
  });
  writeFileSync(
    config.experimentsFile,
    `defaultAlgorithm: fielded
experiments:
  - id: footer-test
    surface: post-footer
    tenants: [${TENANT}]
    variants:
      - { name: control, algorithm: fielded }
      - { name: embedding, algorithm: embedding }
`,
  );
  await loadPosts(config, posts);
  const ctx = await openContext(config);
  await runBatch(ctx, { runId: '20261130T000000Z', tenants: [TENANT] });
  await ctx.close();
  admin = addApiKey(config.api.keysFile, 'viewer', ['*']);
  scoped = addApiKey(config.api.keysFile, 'backend', [TENANT]);
  server = await startServer(config, 0);
  // Traffic of the running experiment: 20 users, the first item of every third answer clicked.
  const client = createClient({ baseUrl: server.url, apiKey: scoped });
  for (let u = 0; u < 20; u++) {
    const body = await client.related(TENANT, POST, {
      userId: `user-${u}`,
      surface: 'post-footer',
      limit: 5,
    });
    if (u % 3 === 0)
      await client.sendEvents(TENANT, [
        {
          eventId: `e${u}`,
          requestId: body.requestId,
          postId: body.items[0]!.postId,
          type: 'click',
        },
      ]);
  }
  await server.logs.flush();
}, 300_000);
afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

describe.skipIf(!haveChromium)('result viewer', () => {
  it('keeps its data behind a key for every tenant', async () => {
    const get = (key?: string) =>
      fetch(`${server.url}/admin/api/tenants`, {
        headers: key ? { authorization: `Bearer ${key}` } : {},
      });
    expect((await get()).status).toBe(401);
    const forbidden = await get(scoped);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { detail: string }).detail).toMatch(/--all-tenants/);
    expect((await get(admin)).status).toBe(200);
    const status = async (tenant: string) =>
      (
        await fetch(`${server.url}/admin/api/tenants/${encodeURIComponent(tenant)}/posts`, {
          headers: { authorization: `Bearer ${admin}` },
        })
      ).status;
    expect(await status('bad\u0001id')).toBe(400);
    // An id is data, never a path: no such tenant.
    expect(await status('../x')).toBe(404);
    const detail = async (tenant: string) =>
      (
        (await (
          await fetch(`${server.url}/admin/api/tenants/${encodeURIComponent(tenant)}/posts`, {
            headers: { authorization: `Bearer ${admin}` },
          })
        ).json()) as { detail: string }
      ).detail;
    expect(await detail('bad\u0001id')).toMatch(
      /ids are 1-128 printable characters without spaces/,
    );
    expect(await detail('nobody')).toMatch(/osusume batch --tenant nobody/);
  });

  it('may not be framed by another site and runs no script or style but its own', async () => {
    const page = await fetch(`${server.url}/admin/viewer`);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toMatch(/script-src 'sha256-[^']+';/);
    expect(policy).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('shows every algorithm side by side with titles, shared items marked, and the experiment with its results', async () => {
    const store = openStore(config.store);
    const active = (await store.getActive(TENANT))!;
    const expected = new Map<string, string[]>();
    for (const algorithm of active.algorithms) {
      const items =
        algorithm === 'popular'
          ? await store.getPopularAt(TENANT, active.version)
          : await store.getListAt(TENANT, active.version, algorithm, POST);
      expected.set(
        algorithm,
        (items ?? [])
          .map((i) => i.postId)
          .filter((id) => id !== POST)
          .slice(0, 10),
      );
    }
    await store.close();
    expect(active.algorithms).toEqual(['embedding', 'fielded', 'popular']);

    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      // The page's own script and style are allowed by its Content-Security-Policy.
      const refused: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
      });
      await page.setViewportSize({ width: 1400, height: 1300 });
      await page.goto(`${server.url}/admin/viewer`);
      await page.fill('#key', admin);
      await page.click('#connect');
      await page.waitForSelector(`#tenant option[value="${TENANT}"]`, { state: 'attached' });
      await page.fill('#search', POST);
      await page.waitForSelector(`#posts option[value="${POST}"]`, { state: 'attached' });
      await page.selectOption('#posts', POST);
      await page.waitForSelector('.list[data-algorithm="embedding"] li.item');
      await page.waitForSelector('.experiment table');

      expect(await page.textContent('#post-title')).toContain(titleOf.get(POST)!);
      const shown = await page.$$eval('.list', (boxes) =>
        boxes.map((b) => ({
          algorithm: b.getAttribute('data-algorithm'),
          ids: [...b.querySelectorAll('li.item')].map((li) => li.getAttribute('data-post-id')),
          titles: [...b.querySelectorAll('li.item .title')].map((t) => t.textContent),
          shared: [...b.querySelectorAll('li.shared')].map((li) => li.getAttribute('data-post-id')),
        })),
      );
      expect(shown.map((s) => s.algorithm)).toEqual(active.algorithms);
      const counts = new Map<string, number>();
      for (const ids of expected.values())
        for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
      for (const s of shown) {
        const ids = expected.get(s.algorithm!)!;
        expect(ids.length).toBeGreaterThan(0);
        expect(s.ids).toEqual(ids);
        expect(s.titles).toEqual(ids.map((id) => titleOf.get(id)));
        expect(s.shared).toEqual(ids.filter((id) => counts.get(id)! > 1));
      }
      expect(shown.some((s) => s.shared.length > 0)).toBe(true);

      const rows = await page.$$eval(
        '.experiment[data-experiment="footer-test"] tr[data-variant]',
        (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
      );
      expect(rows.map((r) => r[0])).toEqual(['control (control)', 'embedding']);
      expect(rows.reduce((a, r) => a + Number(r[1]), 0)).toBe(20);
      expect(rows.reduce((a, r) => a + Number(r[3]), 0)).toBe(7);
      expect(await page.textContent('.experiment .method')).toBe(
        'Sequential: intervals and p-values stay valid however often you look (osusume results --sequential).',
      );
      expect(await page.textContent('.experiment .srm')).toMatch(
        /Sample ratio: p = \d\.\d{4} — ok/,
      );
      // 7 clicks over two variants: one has fewer than 5, so no interval for it, and a note.
      expect(rows.some((r) => r[5] === '-')).toBe(true);
      expect(await page.textContent('.experiment .too-little')).toMatch(
        /^Too little data yet for .*: no interval, lift or p-value until a variant has 5 users/,
      );
      expect(refused).toEqual([]);
      await page.screenshot({ path: artifactPath('viewer.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
