/**
 * The related endpoint's fast path (api/fast-path.ts) changes nothing but speed: the same
 * requests, sent to a server with the fast path and to one without, get the same status,
 * headers, body, exposure and assignment log lines, error log lines and metric series. Both
 * servers share one LMDB store and one experiments file; request ids are counters, so that
 * interleaving (whose coin is the request id) is comparable too.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../api/server.js';
import type { Config } from '../core/config.js';
import { openStore } from '../core/store/index.js';
import type { RelatedList } from '../core/store/types.js';
import { addApiKey } from '../scripts/api-key.js';
import { open } from 'lmdb';
import { tempDir, testConfig } from './helpers/fixtures.js';

const tmp = tempDir();
const LONG_128 = 'q'.repeat(128);
const LONG_129 = 'q'.repeat(129);
const POSTS = [
  'p1',
  'p2',
  'p3',
  'short',
  'legacy',
  'missing',
  'corrupt',
  'a+b',
  'a b',
  LONG_128,
  LONG_129,
];
let fast: { server: RunningServer; config: Config };
let slow: { server: RunningServer; config: Config };
let keyAll: string;
let keyAcme: string;
const stderr: string[] = [];

const list = (postId: string, ids: string[]): RelatedList => ({
  postId,
  items: ids.map((id, i) => ({ postId: id, score: 1 - i / 10 })),
});

async function start(fastPath: boolean): Promise<{ server: RunningServer; config: Config }> {
  const config = testConfig(tmp.dir, {
    experimentsFile: 'experiments.yaml',
    api: {
      keysFile: 'keys.json',
      logsDir: fastPath ? 'logs-fast' : 'logs-slow',
      maxLimit: 20,
      // Long enough that no cache expires during the test: both servers see the same state.
      reloadSeconds: 600,
      fastPath,
      // Metrics without a key, on a port of their own.
      metricsPort: 0,
    },
    // The batch keeps replaced versions longer than the API keeps pointers (the config checks).
    pipeline: { supersededGraceSeconds: 1200 },
  });
  let n = 0;
  const server = await startServer(config, 0, {
    requestId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
  return { server, config };
}

beforeAll(async () => {
  writeFileSync(
    `${tmp.dir}/experiments.yaml`,
    `defaultAlgorithm: embedding
experiments:
  - id: ab
    surface: footer
    holdout: 0.2
    variants:
      - { name: control, algorithm: popular, weight: 1 }
      - { name: treatment, algorithm: embedding, weight: 1 }
  - id: il
    surface: sidebar
    type: interleaving
    holdout: 0.2
    variants: [{ name: emb, algorithm: embedding }, { name: pop, algorithm: popular }]
  - id: pending
    surface: pending
    variants:
      - { name: control, algorithm: embedding, weight: 1 }
      - { name: treatment, algorithm: coengagement, weight: 1 }
`,
  );
  const seed = openStore(testConfig(tmp.dir).store);
  await seed.writeLists('acme', 'v1', 'embedding', [
    list('p1', ['p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'a+b']),
    list('p2', ['p1', 'p3', 'x"y', 'ユ', 'p9']),
    list('p3', ['p1', 'p2']),
    list('short', ['p2']),
    list('a+b', ['p1', 'p3']),
    list(LONG_128, ['p1', 'p2', 'p3']),
  ]);
  await seed.writePopular('acme', 'v1', [
    { postId: 'p9', score: 9 },
    { postId: 'p8', score: 8 },
    { postId: 'p1', score: 7 },
    { postId: 'p3', score: 6 },
  ]);
  await seed.activate(
    'acme',
    { version: 'v1', activatedAt: '', algorithms: ['embedding', 'popular'], lists: 7 },
    2,
  );
  await seed.writeLists('other', 'v1', 'embedding', [list('p1', ['secret-1'])]);
  await seed.writePopular('other', 'v1', [{ postId: 'secret-2', score: 1 }]);
  await seed.activate(
    'other',
    { version: 'v1', activatedAt: '', algorithms: ['embedding'], lists: 1 },
    2,
  );
  await seed.close();
  // Values the store no longer writes, put as they are: a list written before scores were kept
  // as JSON text too (served the same), and a list holding a null item (filtering it throws in
  // the service, which must become a 500).
  const raw = open({
    path: `${tmp.dir}/store.lmdb`,
    compression: false,
    sharedStructuresKey: Symbol.for('structures'),
  });
  await raw.put(
    ['l', 'acme', 'v1', 'embedding', 'legacy'],
    list('legacy', ['p3', 'p1', 'p9']).items,
  );
  await raw.put(['l', 'acme', 'v1', 'embedding', 'corrupt'], [null]);
  await raw.close();
  keyAll = addApiKey(`${tmp.dir}/keys.json`, 'all', ['*']);
  keyAcme = addApiKey(`${tmp.dir}/keys.json`, 'acme-only', ['acme']);
  fast = await start(true);
  slow = await start(false);
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk, ...rest) => {
    if (String(chunk).includes('request failed')) stderr.push(String(chunk));
    return write(chunk, ...(rest as []));
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await fast?.server.close();
  await slow?.server.close();
  tmp.cleanup();
});

interface Sent {
  status: number;
  headers: string[];
  body: string;
}

/** One request as raw as Node's client allows: the target and headers go out as given. */
function send(
  url: string,
  method: string,
  target: string,
  headers: [string, string][],
  body?: string,
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const grouped: Record<string, string[]> = {};
    for (const [name, value] of headers) (grouped[name] ??= []).push(value);
    const req = request(`${url}${target}`, { method, headers: grouped });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        // Everything but the clock.
        const raw = res.rawHeaders.filter(
          (_, i, all) => all[i - (i % 2)]!.toLowerCase() !== 'date',
        );
        resolve({ status: res.statusCode!, headers: raw, body: Buffer.concat(chunks).toString() });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** How a value goes into the URL: as it is (when Node's client accepts it), encoded, or with '+'. */
const encoding = fc.constantFrom('plain', 'percent', 'plus');
function encode(value: string, how: string): string {
  if (how === 'plain' && /^[!-~]*$/.test(value)) return value;
  const encoded = encodeURIComponent(value);
  return how === 'plus' ? encoded.replace(/%20/g, '+') : encoded;
}

const text = fc.string({ maxLength: 12, unit: 'binary' });
const tenant = fc.oneof(fc.constantFrom('acme', 'acme', 'acme', 'other', 'ghost'), text);
const post = fc.oneof(fc.constantFrom(...POSTS), text);
const parameter = fc.oneof(
  fc.tuple(
    fc.constant('userId'),
    fc.oneof(
      fc.integer({ min: 0, max: 40 }).map((u) => `u${u}`),
      fc.constantFrom('', 'u 1', 'u+1', 'ユーザー', 'u\u0001', LONG_128, LONG_129),
      text,
    ),
  ),
  fc.tuple(
    fc.constant('surface'),
    fc.constantFrom('footer', 'sidebar', 'pending', 'default', '', 'x y'),
  ),
  fc.tuple(
    fc.constant('limit'),
    fc.oneof(
      fc.integer({ min: -2, max: 25 }).map(String),
      fc.constantFrom('', '1.5', '1e1', '0x10', ' 3', '3 ', '+3', '٣', 'NaN'),
    ),
  ),
  fc.tuple(
    fc.constant('exclude'),
    fc.oneof(
      fc.subarray(['p2', 'p3', 'p9', 'a+b', '', LONG_129]).map((ids) => ids.join(',')),
      text,
    ),
  ),
  fc.tuple(fc.constantFrom('other', 'userid', ''), text),
);
const authorization = fc.constantFrom(
  'all',
  'all',
  'all',
  'acme',
  'none',
  'wrong',
  'twice',
  'lower',
);

/** Anything, mostly invalid. */
const oddRequest = fc.record({
  kind: fc.constant('related' as const),
  method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'HEAD'),
  tenant,
  post,
  pathEncoding: encoding,
  query: fc.array(fc.tuple(parameter, encoding), { maxLength: 6 }),
  key: authorization,
});
/** What a product backend sends: valid, with the optional parameters in any order. */
const typicalRequest = fc.record({
  kind: fc.constant('related' as const),
  method: fc.constant('GET'),
  tenant: fc.constant('acme'),
  post: fc.constantFrom(...POSTS.slice(0, 8)),
  pathEncoding: fc.constant('plain'),
  query: fc
    .tuple(
      fc.integer({ min: 0, max: 40 }).map((u) => ['userId', `u${u}`] as [string, string]),
      fc.subarray([
        ['surface', 'footer'],
        ['surface', 'sidebar'],
        ['surface', 'pending'],
        ['limit', '3'],
        ['limit', '7'],
        ['exclude', 'p3,p9'],
      ] as [string, string][]),
    )
    .chain(([user, rest]) => fc.shuffledSubarray([user, ...rest], { minLength: rest.length + 1 }))
    .map((pairs) => pairs.map((pair) => [pair, 'plain'] as [[string, string], string])),
  key: fc.constantFrom('all', 'acme'),
});
const relatedRequest = fc.oneof(typicalRequest, oddRequest);
const hiddenChange = fc.record({
  kind: fc.constant('hidden' as const),
  postIds: fc.subarray(['p2', 'p3', 'p9', 'a+b'], { minLength: 1 }),
  hidden: fc.boolean(),
});
function headersFor(key: string): [string, string][] {
  switch (key) {
    case 'all':
      return [['authorization', `Bearer ${keyAll}`]];
    case 'acme':
      return [['authorization', `Bearer ${keyAcme}`]];
    case 'wrong':
      return [['authorization', 'Bearer osk_wrong']];
    case 'twice':
      return [
        ['authorization', `Bearer ${keyAll}`],
        ['authorization', `Bearer ${keyAll}`],
      ];
    case 'lower':
      return [['authorization', `bearer ${keyAll}`]];
    default:
      return [];
  }
}

async function both(
  method: string,
  target: string,
  headers: [string, string][],
  body?: string,
): Promise<[Sent, Sent]> {
  // One after the other, so that each server sees the same sequence.
  const a = await send(fast.server.url, method, target, headers, body);
  const b = await send(slow.server.url, method, target, headers, body);
  return [a, b];
}

/** Log lines of a server, in order, with what depends on the clock masked. */
async function logLines(server: { server: RunningServer; config: Config }): Promise<string[]> {
  await server.server.logs.flush();
  const dir = server.config.api.logsDir;
  return readdirSync(dir)
    .sort()
    .flatMap((file) =>
      readFileSync(`${dir}/${file}`, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => `${file.replace(/-\d{4}-\d\d-\d\d/, '')} ${mask(line)}`),
    );
}

const mask = (line: string) =>
  line
    .replace(/"(ts|time)":"[^"]*"/g, '"$1":"T"')
    .replace(/"latencyMs":[0-9.e-]+/g, '"latencyMs":0');

/** The osusume series of /metrics, without the latency buckets and sums (they time requests). */
async function series(server: RunningServer): Promise<string[]> {
  const text = await (await fetch(`${server.metricsUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith('osusume_') &&
        !/^osusume_http_request_duration_seconds_(bucket|sum)/.test(l) &&
        !l.startsWith('osusume_fast_path'),
    );
}

async function fastPathAnswers(): Promise<number> {
  // Both servers are scraped, so that both keep counting the same request ids.
  await fetch(`${slow.server.metricsUrl}/metrics`).then((r) => r.text());
  const text = await (await fetch(`${fast.server.metricsUrl}/metrics`)).text();
  return Number(/^osusume_fast_path_responses_total (\d+)/m.exec(text)?.[1] ?? 0);
}

/** A body without the request ids the test servers number as they go. */
const maskRequestId = (body: string) => body.replace(/00000000-0000-4000-8000-\d{12}/g, 'R');

/** Responses to requests written at once on one socket, parsed in the order they come back. */
function pipeline(port: number, requests: string, count: number): Promise<Sent[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(requests));
    let data = Buffer.alloc(0);
    const answers: Sent[] = [];
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      for (;;) {
        const end = data.indexOf('\r\n\r\n');
        if (end === -1) break;
        const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
        const fields = lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]);
        const length = Number(fields.find(([k]) => k!.toLowerCase() === 'content-length')![1]);
        if (data.length < end + 4 + length) break;
        answers.push({
          status: Number(statusLine!.split(' ')[1]),
          headers: fields.filter(([k]) => k!.toLowerCase() !== 'date').flat() as string[],
          body: data.subarray(end + 4, end + 4 + length).toString(),
        });
        data = data.subarray(end + 4 + length);
      }
      if (answers.length === count) {
        socket.end();
        resolve(answers);
      }
    });
    socket.on('error', reject);
  });
}

describe('the related fast path', () => {
  it('answers every request exactly as the Hono route does (property-based)', async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            { weight: 12, arbitrary: relatedRequest },
            { weight: 1, arbitrary: hiddenChange },
          ),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        async (steps) => {
          for (const step of steps) {
            if (step.kind === 'hidden') {
              const [a, b] = await both(
                'POST',
                '/v1/tenants/acme/hidden',
                [
                  ['authorization', `Bearer ${keyAll}`],
                  ['content-type', 'application/json'],
                ],
                JSON.stringify({ postIds: step.postIds, hidden: step.hidden }),
              );
              expect(a).toEqual(b);
              continue;
            }
            const query = step.query
              .map(([[k, v], how]) => `${encode(k, how)}=${encode(v, how)}`)
              .join('&');
            const target =
              `/v1/tenants/${encode(step.tenant, step.pathEncoding)}` +
              `/posts/${encode(step.post, step.pathEncoding)}/related${query ? `?${query}` : ''}`;
            const [a, b] = await both(step.method, target, headersFor(step.key));
            expect(a, `${step.method} ${target}`).toEqual(b);
            sent += 1;
          }
        },
      ),
      { numRuns: 60 },
    );
    // Every user on every experiment's surface as well: assignment is a hash of the user id, so
    // these always include holdout users, each variant and interleaved teams.
    for (const surface of ['footer', 'sidebar', 'pending'])
      for (let u = 0; u <= 40; u++) {
        const target = `/v1/tenants/acme/posts/p1/related?userId=u${u}&surface=${surface}`;
        const [a, b] = await both('GET', target, headersFor('all'));
        expect(a, target).toEqual(b);
        sent += 1;
      }
    // Paths near the related route's shape, which the fast path must leave to Hono's router.
    for (const path of [
      '/v1/tenants/acme/posts/p1/related/',
      '/v1/tenants/acme/posts/p1/relatedx',
      '/v1/tenants/acme/posts/p1/x/related',
      '/v1/tenants/acme/posts//related',
      '/v1/tenants//posts/p1/related',
      '/v1/tenants/acme/x/posts/p1/related',
      '/v1/tenants/acme/post/p1/related',
      '/v1/tenants/acme/posts/p1/related?',
      '/v1/tenants/acme/posts/p1?/related',
      '/v1/tenants/acme/posts/p1/related?x=/related',
    ]) {
      const [a, b] = await both('GET', path, headersFor('all'));
      expect(a, path).toEqual(b);
      sent += 1;
    }
    const lines = await logLines(fast);
    expect(lines).toEqual(await logLines(slow));
    // The cases the comparison must have covered: A/B, holdout, interleaving, not enrolled.
    for (const seen of [
      '"variant":"treatment"',
      '"variant":"holdout"',
      '"team":"pop"',
      '"notEnrolled":"pending"',
    ])
      expect(
        lines.some((l) => l.includes(seen)),
        seen,
      ).toBe(true);
    expect(await series(fast.server)).toEqual(await series(slow.server));
    // The comparison means something only if the fast path answered a good share of them.
    expect(await fastPathAnswers()).toBeGreaterThan(sent / 10);
  });

  it('answers a failure while serving as app.onError does: a logged 500, no stack trace', async () => {
    stderr.length = 0;
    const headers = headersFor('all');
    const target = '/v1/tenants/acme/posts/corrupt/related?userId=u1';
    // Once to warm the fast path's caches, then the request it answers itself.
    for (let i = 0; i < 2; i++) {
      const before = await fastPathAnswers();
      const [a, b] = await both('GET', target, headers);
      expect(a).toEqual(b);
      expect(a.status, a.body).toBe(500);
      expect(JSON.parse(a.body)).toMatchObject({
        title: 'Internal error',
        instance: '/v1/tenants/acme/posts/corrupt/related',
      });
      expect(a.body).not.toMatch(/at .*\.ts:\d+/);
      if (i === 1) expect(await fastPathAnswers()).toBe(before + 1);
    }
    expect(stderr).toHaveLength(4);
    expect(mask(stderr[2]!)).toBe(mask(stderr[3]!));
    expect(await series(fast.server)).toEqual(await series(slow.server));
  });

  it('answers requests that arrive together each with its own answer, in order on a pipelined connection', async () => {
    const targets = [
      ...POSTS.map(
        (post) => `/v1/tenants/acme/posts/${encodeURIComponent(post)}/related?userId=u1`,
      ),
      '/v1/tenants/acme/posts/p1/related?userId=u2&surface=footer&exclude=p3',
      // Not the interleaving surface: its team draft follows the request id, numbered per server.
      '/v1/tenants/acme/posts/p2/related?userId=u3&surface=footer&limit=2',
    ];
    const headers = headersFor('all');
    const expected = [];
    for (const target of targets)
      expected.push(await send(slow.server.url, 'GET', target, headers));
    // Node's client does not pipeline: the requests go out in one write on one socket.
    const { port } = new URL(fast.server.url);
    const raw = targets
      .map(
        (t) => `GET ${t} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${headers[0]![1]}\r\n\r\n`,
      )
      .join('');
    const pipelined = await pipeline(Number(port), raw, targets.length);
    // And every target again at once, each on a connection of its own.
    const together = await Promise.all(
      targets.map((t) => send(fast.server.url, 'GET', t, headers)),
    );
    for (const [i, target] of targets.entries()) {
      const want = { ...expected[i]!, body: maskRequestId(expected[i]!.body) };
      for (const got of [pipelined[i]!, together[i]!])
        expect({ ...got, body: maskRequestId(got.body) }, target).toEqual(want);
    }
    // The same requests, once more each, to the server without the fast path: the same counts.
    for (const target of targets) await send(slow.server.url, 'GET', target, headers);
    expect(await series(fast.server)).toEqual(await series(slow.server));
  });
});
