/** The API over real HTTP, on a real LMDB store. */
import {
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { connect, createServer, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, hashKey } from '../api/auth.js';
import { createClient, OsusumeApiError } from '../api/client.js';
import type { ProblemBody } from '../api/schemas.js';
import { RecentIds } from '../api/recent-ids.js';
import { startServer, type RunningServer } from '../api/server.js';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { sharesOfSplit } from '../core/experiments.js';
import { freePort } from '../core/net.js';
import { openStore } from '../core/store/index.js';
import type { RecommendationStore, RelatedList } from '../core/store/types.js';
import { addApiKey } from '../scripts/api-key.js';
import { tempDir, testConfig } from './helpers/fixtures.js';

const tmp = tempDir();
let config: Config;
let server: RunningServer;
let store: RecommendationStore;
let keyAll: string;
let keyAcme: string;

const list = (postId: string, ids: string[]): RelatedList => ({
  postId,
  items: ids.map((id, i) => ({ postId: id, score: 1 - i / 10 })),
});
const writeExperiments = (yaml: string) => writeFileSync(config.experimentsFile, yaml);

beforeAll(async () => {
  config = testConfig(tmp.dir, {
    experimentsFile: 'experiments.yaml',
    api: {
      reloadSeconds: 0.1,
      logsDir: 'logs',
      maxLimit: 20,
      maxHiddenPerTenant: 5,
      maxTenantLabels: 5,
      timeouts: { requestSeconds: 1, headersSeconds: 1, keepAliveSeconds: 1 },
    },
  });
  writeExperiments('defaultAlgorithm: embedding\n');
  const seed = openStore(config.store);
  await seed.writeLists('acme', 'v1', 'embedding', [
    list('p1', ['p2', 'p3', 'p4', 'p5', 'p6']),
    list('short', ['p2']),
    list('a/b', ['p1', 'p2']),
    // Every post the batch sees has a list of its own.
    ...['p2', 'p3', 'p4', 'p5', 'p6'].map((p) => list(p, ['p1'])),
  ]);
  await seed.writePopular('acme', 'v1', [
    { postId: 'p9', score: 9 },
    { postId: 'p8', score: 8 },
    { postId: 'p1', score: 7 },
    { postId: 'p2', score: 6 },
  ]);
  await seed.activate(
    'acme',
    { version: 'v1', activatedAt: '', algorithms: ['embedding', 'popular'], lists: 3 },
    2,
  );
  await seed.writeLists('other', 'v1', 'embedding', [list('p1', ['secret-1', 'secret-2'])]);
  await seed.writePopular('other', 'v1', [{ postId: 'secret-3', score: 1 }]);
  await seed.activate(
    'other',
    { version: 'v1', activatedAt: '', algorithms: ['embedding'], lists: 1 },
    2,
  );
  await seed.close();
  keyAll = addApiKey(config.api.keysFile, 'all', ['*']);
  keyAcme = addApiKey(config.api.keysFile, 'acme-only', ['acme']);
  server = await startServer(config, 0);
  store = openStore(config.store);
});
afterAll(async () => {
  await server.close();
  await store.close();
  tmp.cleanup();
});

const client = () => createClient({ baseUrl: server.url, apiKey: keyAll });
const get = (path: string, key: string | null = keyAll) =>
  fetch(`${server.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
const ids = (items: { postId: string }[]) => items.map((i) => i.postId);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- log records are checked field by field
const readLog = (log: string): any[] =>
  readdirSync(config.api.logsDir)
    .filter((f) => f.startsWith(log))
    .flatMap((f) =>
      readFileSync(`${config.api.logsDir}/${f}`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );

/** The server answers 413 from Content-Length, before reading the body (fetch would see a reset mid-upload). */
function answerToLargeUpload(
  path: string,
  bytes: number,
): Promise<{ status: number; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${keyAll}`,
        'content-type': 'application/json',
        'content-length': bytes,
      },
    });
    req.on('response', (res) => {
      resolve({ status: res.statusCode!, connection: res.headers.connection });
      req.destroy();
    });
    req.on('error', reject);
    // The declared length alone must be enough to refuse: nothing of the body is sent.
    req.flushHeaders();
  });
}

describe('GET related', () => {
  it('serves the active list with ranks, scores, version and request id', async () => {
    const body = await client().related('acme', 'p1', { userId: 'u1', limit: 3 });
    expect(body).toMatchObject({
      tenantId: 'acme',
      postId: 'p1',
      algorithm: 'embedding',
      version: 'v1',
      experiment: null,
      variant: null,
      fallback: false,
    });
    expect(body.items).toEqual([
      { postId: 'p2', rank: 1, score: 1 },
      { postId: 'p3', rank: 2, score: 0.9 },
      { postId: 'p4', rank: 3, score: 0.8 },
    ]);
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('removes excluded and hidden posts, and unhides again', async () => {
    expect(
      ids(
        (await client().related('acme', 'p1', { userId: 'u1', limit: 3, exclude: ['p2', 'p4'] }))
          .items,
      ),
    ).toEqual(['p3', 'p5', 'p6']);
    await client().setHidden('acme', ['p3']);
    expect(ids((await client().related('acme', 'p1', { userId: 'u1', limit: 3 })).items)).toEqual([
      'p2',
      'p4',
      'p5',
    ]);
    await client().setHidden('acme', ['p3'], false);
    expect(ids((await client().related('acme', 'p1', { userId: 'u1', limit: 3 })).items)).toEqual([
      'p2',
      'p3',
      'p4',
    ]);
  });

  it('fills a missing or short list from the popular list of the same tenant, flagged', async () => {
    const missing = await client().related('acme', 'unknown', { userId: 'u1', limit: 3 });
    expect(missing).toMatchObject({ fallback: true, version: 'v1' });
    expect(ids(missing.items)).toEqual(['p9', 'p8', 'p1']);
    const short = await client().related('acme', 'short', { userId: 'u1', limit: 3 });
    expect(short).toMatchObject({ fallback: true });
    expect(ids(short.items)).toEqual(['p2', 'p9', 'p8']);
    const viewed = await client().related('acme', 'p9', { userId: 'u1', limit: 10 });
    expect(ids(viewed.items)).not.toContain('p9');
    for (const item of viewed.items) expect(item.postId.startsWith('secret')).toBe(false);
  });

  it('accepts ids with slashes and non-ASCII characters when percent-encoded', async () => {
    expect(
      ids((await client().related('acme', 'a/b', { userId: 'ユーザー', limit: 2 })).items),
    ).toEqual(['p1', 'p2']);
  });

  it('never serves a half-written version', async () => {
    await store.writeLists('acme', 'v2', 'embedding', [list('p1', ['x1', 'x2'])]);
    const body = await client().related('acme', 'p1', { userId: 'u1', limit: 2 });
    expect(body.version).toBe('v1');
    expect(ids(body.items)).toEqual(['p2', 'p3']);
    await store.deleteVersion('acme', 'v2');
  });
});

describe('security and validation', () => {
  it('answers 401 without or with a wrong key, 403 outside the key scope, as problem+json', async () => {
    for (const [key, status] of [
      [null, 401],
      ['osk_wrong', 401],
      [keyAcme, 403],
    ] as const) {
      const res = await get('/v1/tenants/other/posts/p1/related?userId=u1', key);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({
        status,
        title: status === 401 ? 'Unauthorized' : 'Forbidden',
        detail:
          key === null
            ? expect.stringMatching(/Bearer/)
            : expect.stringMatching(/osusume operator/i),
      });
    }
    expect((await get('/v1/tenants/acme/posts/p1/related?userId=u1', keyAcme)).status).toBe(200);
  });

  it('takes the scheme name in any case, as HTTP defines it', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer'])
      expect(
        (
          await fetch(`${server.url}/v1/tenants/acme/posts/p1/related?userId=u1`, {
            headers: { authorization: `${scheme} ${keyAcme}` },
          })
        ).status,
      ).toBe(200);
  });

  it('refuses a revoked key within api.reloadSeconds, even when the new file keeps the size and time of the old', async () => {
    const file = config.api.keysFile;
    const before = readFileSync(file);
    const pause = () => new Promise((r) => setTimeout(r, 400));
    // Rotated under the same id within one tick of the file system's clock: the same size and
    // modification time, only the hash differs.
    const tick = new Date('2026-01-01T00:00:00Z');
    const oldKey = addApiKey(file, 'rotated', ['acme']);
    utimesSync(file, tick, tick);
    const { size } = statSync(file);
    await pause();
    expect((await get('/v1/tenants/acme/posts/p1/related?userId=u1', oldKey)).status).toBe(200);
    const newKey = generateKey();
    writeFileSync(file, readFileSync(file, 'utf8').replace(hashKey(oldKey), hashKey(newKey)));
    utimesSync(file, tick, tick);
    expect(statSync(file)).toMatchObject({ mtime: tick, size });
    await pause();
    expect((await get('/v1/tenants/acme/posts/p1/related?userId=u1', oldKey)).status).toBe(401);
    expect((await get('/v1/tenants/acme/posts/p1/related?userId=u1', newKey)).status).toBe(200);
    writeFileSync(file, before);
    await pause();
  });

  it('rejects bad parameters with 400 naming each one', async () => {
    const res = await get(
      '/v1/tenants/acme/posts/p1/related?userId=has%20space&limit=0&exclude=ok,bad%20id',
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { where: string }[] };
    expect(body.errors.map((e) => e.where).sort()).toEqual(['exclude', 'limit', 'userId']);
    expect((await get('/v1/tenants/acme/posts/p1/related?userId=u&limit=21')).status).toBe(400);
    // Decimal digits only: what Number() would also read is refused.
    for (const limit of ['0x10', '0b11', '1e1', '%205', '5.0', '+5', '-1', '00000000003']) {
      const refused = await get(`/v1/tenants/acme/posts/p1/related?userId=u&limit=${limit}`);
      expect(refused.status, limit).toBe(400);
      expect(JSON.stringify(await refused.json()), limit).toContain('"where":"limit"');
    }
    expect((await get('/v1/tenants/acme/posts/p1/related?userId=u&limit=05')).status).toBe(200);
    expect((await get('/v1/tenants/acme/posts/p1/related')).status).toBe(400);
    await expect(client().related('acme', 'p1', { userId: 'u', limit: 50 })).rejects.toBeInstanceOf(
      OsusumeApiError,
    );
  });

  it('limits body size, rejects malformed JSON and unknown routes, and shows no stack traces', async () => {
    const post = (path: string, body: string) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keyAll}`, 'content-type': 'application/json' },
        body,
      });
    // The unread rest of the body is not waited for: the connection closes after the answer.
    expect(await answerToLargeUpload('/v1/tenants/acme/events', 300_000)).toEqual({
      status: 413,
      connection: 'close',
    });
    const malformed = await post('/v1/tenants/acme/events', '{"events": [');
    expect(malformed.status).toBe(400);
    const problem = (await malformed.json()) as ProblemBody;
    expect(JSON.stringify(problem)).not.toMatch(/at .*\.ts:\d+/);
    expect(problem.detail).toBe(
      'Malformed JSON in request body: see /docs or /openapi.json for what it should hold.',
    );
    const plain = await fetch(`${server.url}/v1/tenants/acme/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keyAll}`, 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(plain.status).toBe(415);
    expect(((await plain.json()) as ProblemBody).detail).toBe(
      'Unsupported Media Type: send the body as JSON, with Content-Type: application/json.',
    );
    expect((await get('/nope')).status).toBe(404);
  });

  it('hides only posts the tenant serves, at most api.maxHiddenPerTenant, changing nothing otherwise', async () => {
    const hide = (postIds: string[], hidden = true) =>
      fetch(`${server.url}/v1/tenants/acme/hidden`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keyAll}`, 'content-type': 'application/json' },
        body: JSON.stringify({ postIds, hidden }),
      });
    const unknown = await hide(['p2', 'never-seen']);
    expect(unknown.status).toBe(404);
    const refused = (await unknown.json()) as ProblemBody;
    expect(refused.errors).toEqual([{ where: 'postIds', message: 'unknown post never-seen' }]);
    expect(refused.detail).toMatch(
      /^1 of these posts is not served for tenant "acme": it is in no list/,
    );
    const both = (await (await hide(['never-seen', 'nor-this'])).json()) as ProblemBody;
    expect(both.detail).toMatch(
      /^2 of these posts are not served for tenant "acme": they are in no list/,
    );
    expect((await store.getHidden('acme')).sort()).toEqual([]);
    expect((await hide(['p2', 'p3', 'p4', 'p5', 'p6'])).status).toBe(200);
    const full = await hide(['p1']);
    expect(full.status).toBe(409);
    expect(((await full.json()) as ProblemBody).detail).toContain(
      'at most 5 (api.maxHiddenPerTenant)',
    );
    // Hiding what is hidden already takes no room; unhiding always works.
    expect((await hide(['p2'])).status).toBe(200);
    expect((await hide(['p2', 'p3', 'p4', 'p5', 'p6'], false)).status).toBe(200);
    expect(await store.getHidden('acme')).toEqual([]);
  });

  it('closes a connection whose body trickles in slower than api.timeouts.requestSeconds', async () => {
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.write(
      `POST /v1/tenants/acme/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${keyAll}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`,
    );
    const trickle = setInterval(() => socket.write(' '), 200);
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    await new Promise((resolve) => socket.on('close', resolve));
    clearInterval(trickle);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('never answers 500 to malformed requests (property-based)', async () => {
    const segment = fc
      .string({ minLength: 0, maxLength: 40, unit: 'binary' })
      .map((s) => encodeURIComponent(s));
    await fc.assert(
      fc.asyncProperty(
        segment,
        segment,
        segment,
        fc.string({ maxLength: 200 }),
        async (tenant, post, user, body) => {
          const related = await get(
            `/v1/tenants/${tenant}/posts/${post}/related?userId=${user}&limit=${user.length}`,
          );
          expect(related.status).toBeLessThan(500);
          const events = await fetch(`${server.url}/v1/tenants/${tenant}/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${keyAll}`, 'content-type': 'application/json' },
            body,
          });
          expect(events.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('publishes its OpenAPI document, health, readiness and metrics', async () => {
    type Parameter = { name: string; schema: { pattern?: string; maximum?: number } };
    const doc = (await (await get('/openapi.json', null)).json()) as {
      paths: Record<string, { get?: { parameters: Parameter[] } }>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/tenants/{tenantId}/posts/{postId}/related',
        '/v1/tenants/{tenantId}/events',
      ]),
    );
    const parameters = doc.paths['/v1/tenants/{tenantId}/posts/{postId}/related']!.get!.parameters;
    const schemaOf = (name: string) => parameters.find((p) => p.name === name)!.schema;
    // The configured maxLimit (20 here), not the schema's own bound.
    expect(schemaOf('limit').maximum).toBe(20);
    // The published id pattern is a plain (flagless) regular expression that reads as the API does.
    const pattern = new RegExp(schemaOf('postId').pattern!);
    for (const ok of ['p1', 'a/b', 'getent.1', 'ファイル', 'x'.repeat(128)])
      expect(pattern.test(ok), ok).toBe(true);
    for (const bad of ['has space', 'tab\there', 'nul\u0000', 'soft\u00adhyphen', 'bom\ufeff', ''])
      expect(pattern.test(bad), JSON.stringify(bad)).toBe(false);
    expect((await get('/healthz', null)).status).toBe(200);
    // Without a key, readiness says only that: not how many keys there are (2 here).
    expect(await (await get('/readyz', null)).json()).toEqual({ status: 'ready' });
    // Metrics need a key for all tenants, and unknown tenant ids share one label.
    expect((await get('/metrics', null)).status).toBe(401);
    expect((await get('/metrics', keyAcme)).status).toBe(403);
    for (let i = 0; i < 30; i++) await get(`/v1/tenants/nobody-${i}/posts/p1/related?userId=u`);
    const metrics = await (await get('/metrics')).text();
    expect(metrics).not.toContain('nobody-');
    expect(metrics).toContain('tenant="other"');
    expect(metrics).toMatch(
      /osusume_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/tenants\/:tenantId\/posts\/:postId\/related"[^}]*tenant="acme"/,
    );
  });
});

describe('experiments and logs', () => {
  it('assigns users deterministically, picks up a changed file without a restart, and logs joinable records', async () => {
    writeExperiments(`experiments:
  - id: ab1
    surface: footer
    variants:
      - { name: control, algorithm: popular, weight: 1 }
      - { name: treatment, algorithm: embedding, weight: 1 }
`);
    await new Promise((r) => setTimeout(r, 400));
    const seen = new Map<string, string>();
    for (let u = 0; u < 40; u++) {
      const a = await client().related('acme', 'p1', {
        userId: `user-${u}`,
        surface: 'footer',
        limit: 2,
      });
      const b = await client().related('acme', 'p1', {
        userId: `user-${u}`,
        surface: 'footer',
        limit: 2,
      });
      expect(b.variant).toBe(a.variant);
      expect(a.experiment).toBe('ab1');
      expect(a.algorithm).toBe(a.variant === 'control' ? 'popular' : 'embedding');
      seen.set(`user-${u}`, a.variant!);
    }
    expect(new Set(seen.values())).toEqual(new Set(['control', 'treatment']));
    const other = await client().related('acme', 'p1', {
      userId: 'user-1',
      surface: 'sidebar',
      limit: 2,
    });
    expect(other.experiment).toBeNull();

    const response = await client().related('acme', 'p1', {
      userId: 'user-7',
      surface: 'footer',
      limit: 2,
    });
    const events = [
      {
        eventId: 'e1',
        requestId: response.requestId,
        postId: response.items[0]!.postId,
        type: 'click',
      },
    ];
    expect(await client().sendEvents('acme', events)).toEqual({ accepted: 1, duplicates: 0 });
    expect(await client().sendEvents('acme', events)).toEqual({ accepted: 0, duplicates: 1 });
    await server.logs.flush();
    const read = readLog;
    const exposure = read('exposure').find((e) => e.requestId === response.requestId);
    expect(exposure).toMatchObject({
      tenantId: 'acme',
      surface: 'footer',
      userId: 'user-7',
      experiment: 'ab1',
      variant: seen.get('user-7'),
      // The split the variant was drawn from, which `osusume results` checks the users against.
      split: expect.stringMatching(/^control=1,treatment=1;holdout=0;salt=[0-9a-f]{8}$/),
      version: 'v1',
      fallback: false,
    });
    expect(sharesOfSplit(exposure.split)).toEqual({ control: 0.5, treatment: 0.5 });
    expect(exposure.items[0]).toMatchObject({ rank: 1 });
    expect(
      read('assignment').some(
        (a) => a.requestId === response.requestId && a.variant === seen.get('user-7'),
      ),
    ).toBe(true);
    expect(read('outcome').filter((o) => o.eventId === 'e1')).toHaveLength(1);
  });

  it('interleaves two algorithms with team labels', async () => {
    writeExperiments(`experiments:
  - id: il
    surface: sidebar
    type: interleaving
    variants: [{ name: emb, algorithm: embedding }, { name: pop, algorithm: popular }]
`);
    await new Promise((r) => setTimeout(r, 400));
    const body = await client().related('acme', 'p1', {
      userId: 'u1',
      surface: 'sidebar',
      limit: 4,
    });
    expect(body).toMatchObject({
      experiment: 'il',
      variant: 'interleaved',
      algorithm: 'embedding+popular',
    });
    expect(new Set(body.items.map((i) => i.team))).toEqual(new Set(['emb', 'pop']));
    expect(new Set(ids(body.items)).size).toBe(4);
    writeExperiments('defaultAlgorithm: embedding\n');
    await new Promise((r) => setTimeout(r, 400));
  });

  it('serves an experiment only once the active version holds every variant, logging why not until then', async () => {
    writeExperiments(`defaultAlgorithm: embedding
experiments:
  - id: needs-lexical
    surface: footer
    tenants: [other]
    variants: [{ name: control, algorithm: embedding }, { name: lexical, algorithm: lexical }]
`);
    await new Promise((r) => setTimeout(r, 400));
    const users = Array.from({ length: 12 }, (_, u) => `ready-${u}`);
    const before = [];
    for (const userId of users)
      before.push(await client().related('other', 'p1', { userId, surface: 'footer', limit: 2 }));
    for (const body of before)
      expect(body).toMatchObject({ experiment: null, variant: null, algorithm: 'embedding' });
    await server.logs.flush();
    const beforeIds = new Set(before.map((b) => b.requestId));
    const exposures = readLog('exposure').filter((e) => beforeIds.has(e.requestId));
    expect(exposures).toHaveLength(users.length);
    for (const e of exposures)
      expect(e).toMatchObject({
        experiment: null,
        split: null,
        notEnrolled: 'needs-lexical',
        notEnrolledReason: 'active version v1 has no lexical lists',
      });
    expect(readLog('assignment').filter((a) => beforeIds.has(a.requestId))).toEqual([]);

    await store.writeLists('other', 'v2', 'embedding', [list('p1', ['secret-1', 'secret-2'])]);
    await store.writeLists('other', 'v2', 'lexical', [list('p1', ['secret-2', 'secret-1'])]);
    await store.writePopular('other', 'v2', [{ postId: 'secret-3', score: 1 }]);
    await store.activate(
      'other',
      { version: 'v2', activatedAt: '', algorithms: ['embedding', 'lexical', 'popular'], lists: 1 },
      2,
    );
    await new Promise((r) => setTimeout(r, 400));
    const after = [];
    for (const userId of users)
      after.push(await client().related('other', 'p1', { userId, surface: 'footer', limit: 2 }));
    expect(new Set(after.map((b) => b.variant))).toEqual(new Set(['control', 'lexical']));
    for (const body of after) {
      expect(body).toMatchObject({ experiment: 'needs-lexical', version: 'v2', fallback: false });
      expect(body.algorithm).toBe(body.variant === 'lexical' ? 'lexical' : 'embedding');
    }
    await server.logs.flush();
    const afterIds = new Set(after.map((b) => b.requestId));
    expect(readLog('assignment').filter((a) => afterIds.has(a.requestId))).toHaveLength(
      users.length,
    );
    writeExperiments('defaultAlgorithm: embedding\n');
    await new Promise((r) => setTimeout(r, 400));
  });

  it('keeps the previous experiments when an edit is invalid', async () => {
    writeExperiments('experiments: [{ id: broken }]\n');
    await new Promise((r) => setTimeout(r, 400));
    expect((await client().related('acme', 'p1', { userId: 'u1', limit: 1 })).algorithm).toBe(
      'embedding',
    );
    writeExperiments('defaultAlgorithm: embedding\n');
  });
});

describe('event de-duplication', () => {
  it('forgets the oldest id beyond its capacity, and tells a re-sent id of any length', () => {
    const recent = new RecentIds(3);
    const long = `${'テ'.repeat(128)}\u0000${'東'.repeat(128)}`;
    expect(['a', 'b', long].map((id) => recent.add(id))).toEqual([true, true, true]);
    expect(['a', 'b', long].map((id) => recent.add(id))).toEqual([false, false, false]);
    expect(recent.add('d')).toBe(true);
    // 'a' was the oldest of four: forgotten, so new again (and then 'b' is forgotten).
    expect(recent.add('a')).toBe(true);
    expect(recent.add(long)).toBe(false);
    expect(recent.add('b')).toBe(true);
  });

  it('holds its capacity of the longest non-Latin ids in a few MB', async () => {
    // In a process of its own, to measure its heap after collecting the garbage.
    const fill = `
      import { RECENT_EVENT_IDS, RecentIds } from ${JSON.stringify(new URL('../api/recent-ids.ts', import.meta.url).pathname)};
      const tenantId = 'テ'.repeat(128);
      // Kept reachable to the end: otherwise collected with its ids before the heap is measured.
      const recent = (globalThis.recent = new RecentIds(RECENT_EVENT_IDS));
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < RECENT_EVENT_IDS; i++) {
        // A fresh id of 128 two-byte characters, as the body's JSON gives it; keyed as app.ts does.
        const eventId = '東'.repeat(120) + String(i).padStart(8, '0');
        recent.add(\`\${tenantId}\\u0000\${eventId}\`);
      }
      gc();
      console.log((process.memoryUsage().heapUsed - before) / 1e6);`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--expose-gc',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      fill,
    ]);
    // 200,000 such ids, kept as they came, took 74 MB; as 128-bit hashes, 12 MB.
    expect(Number(stdout)).toBeGreaterThan(0);
    expect(Number(stdout)).toBeLessThan(20);
  }, 60_000);
});

describe('a start that fails', () => {
  /** Files under `dir` this process holds open (Linux: /proc/self/fd): an open store shows here. */
  const openFilesUnder = (dir: string) =>
    readdirSync('/proc/self/fd')
      .map((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return ''; // closed since it was listed
        }
      })
      .filter((file) => file.startsWith(dir));

  it('closes the API server and the store it opened when api.metricsPort is taken, and says what to do', async () => {
    const own = tempDir();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const metricsPort = (taken.address() as AddressInfo).port;
    const port = await freePort();
    try {
      const failing = testConfig(own.dir, { api: { metricsPort } });
      const error = await startServer(failing, port).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        `Port ${metricsPort} (api.metricsPort, for /metrics) is in use: stop what listens there, or set api.metricsPort to a free port.`,
      );
      expect(openFilesUnder(own.dir)).toEqual([]);
      // The API's own port is free again: a server started on it listens.
      const again = await startServer(testConfig(own.dir), port);
      await again.close();
    } finally {
      taken.close();
      own.cleanup();
    }
  });
});
