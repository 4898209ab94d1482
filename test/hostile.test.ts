import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../api/server.js';
import { openStore } from '../core/store/index.js';
import { addApiKey } from '../scripts/api-key.js';
import { tempDir, testConfig } from './helpers/fixtures.js';

/**
 * Hostile input against the real API (HTTP, LMDB): random ids, other tenants' keys, garbage
 * keys, unknown tenants, malformed, oversized and wrongly typed bodies. Whatever arrives: no
 * 5xx, no item of another tenant, and /metrics and the per-tenant state stay bounded.
 */
const tmp = tempDir();
let server: RunningServer;
const keys: Record<string, string | null> = { none: null, garbage: 'osk_' + 'x'.repeat(40) };

beforeAll(async () => {
  const config = testConfig(tmp.dir, {
    experimentsFile: 'experiments.yaml',
    api: { reloadSeconds: 0.2, logsDir: 'logs', maxTenantLabels: 4, maxHiddenPerTenant: 50 },
  });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(config.experimentsFile, 'defaultAlgorithm: embedding\n');
  const store = openStore(config.store);
  for (const tenant of ['acme', 'beta']) {
    const posts = Array.from({ length: 8 }, (_, i) => `${tenant}-p${i}`);
    await store.writeLists(
      tenant,
      'v1',
      'embedding',
      posts.map((postId) => ({
        postId,
        items: posts.filter((p) => p !== postId).map((p, i) => ({ postId: p, score: 1 - i / 10 })),
      })),
    );
    await store.writePopular(tenant, 'v1', [{ postId: `${tenant}-p0`, score: 1 }]);
    await store.activate(
      tenant,
      { version: 'v1', activatedAt: '', algorithms: ['embedding'], lists: 8 },
      2,
    );
  }
  await store.close();
  keys.all = addApiKey(config.api.keysFile, 'all', ['*']);
  keys.acme = addApiKey(config.api.keysFile, 'acme', ['acme']);
  keys.beta = addApiKey(config.api.keysFile, 'beta', ['beta']);
  server = await startServer(config, 0);
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

const idArb = fc.oneof(
  fc.constantFrom('acme', 'beta', 'acme-p1', 'beta-p2', '', '..', 'a%2Fb', '%00', '%E0%A4%A'),
  fc.string({ maxLength: 150, unit: 'binary' }).map(encodeURIComponent),
);
const bodyArb = fc.oneof(
  fc.json(),
  fc.string({ maxLength: 300 }),
  fc
    .record({ postIds: fc.array(idArb, { maxLength: 30 }), hidden: fc.boolean() })
    .map((b) => JSON.stringify(b)),
  fc
    .record({
      events: fc.array(
        fc.record({ eventId: idArb, requestId: idArb, postId: idArb, type: fc.string() }),
        { maxLength: 5 },
      ),
    })
    .map((b) => JSON.stringify(b)),
  fc.integer({ min: 257, max: 600 }).map((kib) => 'x'.repeat(kib * 1024)),
);
const requestArb = fc.record({
  tenant: idArb,
  post: idArb,
  key: fc.constantFrom('none', 'garbage', 'all', 'acme', 'beta'),
  route: fc.constantFrom('related', 'events', 'hidden'),
  query: fc.oneof(
    fc.constant('userId=u1'),
    fc.string({ maxLength: 80 }).map((q) => `userId=u1&${q}`),
  ),
  body: bodyArb,
});

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

describe('hostile input', () => {
  it('never answers 5xx, never leaks another tenant, and keeps /metrics bounded', async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const key = keys[r.key];
        const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
        const base = `${server.url}/v1/tenants/${r.tenant}`;
        const res =
          r.route === 'related'
            ? await fetch(`${base}/posts/${r.post}/related?${r.query}`, { headers })
            : await fetch(`${base}/${r.route}`, {
                method: 'POST',
                headers: { ...headers, 'content-type': 'application/json' },
                body: r.body,
              });
        const text = await res.text();
        expect(res.status, text).toBeLessThan(500);
        expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
        const tenant = safeDecode(r.tenant);
        // Another tenant's key: refused (an oversized body is refused before the key is read).
        const foreign =
          (r.key === 'acme' && tenant === 'beta') || (r.key === 'beta' && tenant === 'acme');
        if (foreign) expect([403, 413]).toContain(res.status);
        if (res.status === 200 && r.route === 'related') {
          const body = JSON.parse(text) as { items: { postId: string }[] };
          for (const item of body.items) expect(item.postId.startsWith(`${tenant}-`)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    const metrics = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${keys.all}` } })
    ).text();
    const tenants = new Set([...metrics.matchAll(/tenant="([^"]*)"/g)].map((m) => m[1]));
    // Only the two served tenants get labels of their own; every other id is "other" (no tenant: "all").
    expect([...tenants].filter((t) => !['acme', 'beta', 'other', 'all'].includes(t!))).toEqual([]);
    expect(metrics.length).toBeLessThan(256 * 1024);
  }, 240_000);
});
