/** The serving logic when the store misbehaves, and the analysis SQL on generated logs. */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { FileLogSink, StdoutLogSink, type LogName, type LogSink } from '../api/logs.js';
import { ListCache } from '../api/list-cache.js';
import { ApiMetrics } from '../api/metrics.js';
import type { TeamItem } from '../api/interleave.js';
import {
  assignmentJson,
  exposureJson,
  itemsJson,
  responseJson,
  text,
} from '../api/related-json.js';
import { RelatedService, type RelatedRequest } from '../api/related.js';
import type { RelatedResponseBody } from '../api/schemas.js';
import { TtlCache } from '../api/reload.js';
import { parseExperiments } from '../core/experiments.js';
import { LmdbStore } from '../core/store/lmdb.js';
import { numberJson, type RecommendationStore } from '../core/store/types.js';
import { tempDir } from './helpers/fixtures.js';

class MemorySink implements LogSink {
  readonly lines: { log: LogName; record: Record<string, unknown> }[] = [];
  write(log: LogName, record: Record<string, unknown>): void {
    this.lines.push({ log, record });
  }
  writeJson(log: LogName, json: string): void {
    this.write(log, JSON.parse(json) as Record<string, unknown>);
  }
  async flush(): Promise<void> {}
}

async function seededStore(dir: string): Promise<LmdbStore> {
  const store = new LmdbStore(`${dir}/store.lmdb`);
  await store.writeLists('t', 'v1', 'embedding', [
    {
      postId: 'p1',
      items: [
        { postId: 'p2', score: 0.9 },
        { postId: 'p3', score: 0.8 },
      ],
    },
  ]);
  await store.writePopular('t', 'v1', [
    { postId: 'pop1', score: 5 },
    { postId: 'pop2', score: 4 },
  ]);
  await store.activate(
    't',
    { version: 'v1', activatedAt: '', algorithms: ['embedding'], lists: 1 },
    2,
  );
  return store;
}

/** Version v2, whose list for p1 holds only "new", becomes the active one. */
async function activateNewVersion(store: LmdbStore): Promise<void> {
  await store.writeLists('t', 'v2', 'embedding', [
    { postId: 'p1', items: [{ postId: 'new', score: 1 }] },
  ]);
  await store.activate(
    't',
    { version: 'v2', activatedAt: '', algorithms: ['embedding'], lists: 1 },
    2,
  );
}

function service(
  store: RecommendationStore,
  metrics = new ApiMetrics(true),
  logs = new MemorySink(),
  active = (tenantId: string) => store.getActive(tenantId),
  lists = new ListCache(0),
) {
  const related = new RelatedService({
    store,
    active,
    reloadActive: (tenantId) => store.getActive(tenantId),
    lists,
    experiments: () => parseExperiments('defaultAlgorithm: embedding', 'test'),
    hidden: async () => new Set(),
    logs,
    metrics,
    storeTimeoutMs: 30,
  });
  // The body as a client receives it.
  return {
    related: async (req: RelatedRequest, requestId: string) =>
      JSON.parse((await related.related(req, requestId)).json) as RelatedResponseBody,
  };
}

const request = {
  tenantId: 't',
  postId: 'p1',
  userId: 'u',
  surface: 'default',
  limit: 2,
  exclude: [],
};

describe('store trouble', () => {
  it('answers from the popular list when reading the list fails or is slow, and counts it', async () => {
    const tmp = tempDir();
    const store = await seededStore(tmp.dir);
    const metrics = new ApiMetrics(true);
    const failing = Object.assign(Object.create(store), {
      getListAt: async () => Promise.reject(new Error('unavailable')),
    });
    expect(await service(failing, metrics).related(request, 'r1')).toMatchObject({
      fallback: true,
      items: [{ postId: 'pop1' }, { postId: 'pop2' }],
    });
    const slow = Object.assign(Object.create(store), {
      getListAt: () => new Promise((r) => setTimeout(() => r(null), 500)),
    });
    expect(await service(slow, metrics).related(request, 'r2')).toMatchObject({
      fallback: true,
      version: 'v1',
    });
    const counted = await metrics.registry.getSingleMetricAsString('osusume_store_errors_total');
    expect(counted).toContain('kind="error"} 1');
    expect(counted).toContain('kind="timeout"} 1');
    const down = Object.assign(Object.create(store), {
      getListAt: () => Promise.reject(new Error('x')),
      getPopularAt: () => Promise.reject(new Error('x')),
    });
    expect(await service(down).related(request, 'r3')).toMatchObject({ fallback: true, items: [] });
    expect(await service(store).related(request, 'r4')).toMatchObject({
      fallback: false,
      items: [{ postId: 'p2' }, { postId: 'p3' }],
    });
    await store.close();
    tmp.cleanup();
  });
});

describe('the active version pointer', () => {
  it('is read once per interval, and a newly activated version is served after it', async () => {
    const tmp = tempDir();
    const store = await seededStore(tmp.dir);
    let pointerReads = 0;
    const pointers = new TtlCache(1000, (tenantId) => {
      pointerReads += 1;
      return store.getActive(tenantId);
    });
    const svc = service(store, undefined, undefined, (t) => pointers.get(t));
    for (let i = 0; i < 20; i++) expect((await svc.related(request, `r${i}`)).version).toBe('v1');
    expect(pointerReads).toBe(1);
    await activateNewVersion(store);
    // Within the interval the old version is still whole and served; after it, the new one.
    expect((await svc.related(request, 'old')).version).toBe('v1');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await svc.related({ ...request, limit: 1 }, 'new')).toMatchObject({
      version: 'v2',
      items: [{ postId: 'new' }],
    });
    expect(pointerReads).toBe(2);
    await store.close();
    tmp.cleanup();
  });
});

describe('the TTL cache', () => {
  it('forgets a failed load, but not a newer load of the same key that replaced it', async () => {
    const pending: { resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
    const cache = new TtlCache(
      60_000,
      () => new Promise<string>((resolve, reject) => pending.push({ resolve, reject })),
    );
    const first = cache.get('t');
    cache.forget('t');
    const second = cache.get('t');
    pending[1]!.resolve('new');
    await second;
    pending[0]!.reject(new Error('old load failed'));
    await expect(first).rejects.toThrow('old load failed');
    expect(cache.peek('t')).toBe('new');
    const third = cache.get('t');
    expect(pending).toHaveLength(2);
    await expect(third).resolves.toBe('new');
    cache.forget('t');
    const failing = cache.get('t');
    pending[2]!.reject(new Error('down'));
    await expect(failing).rejects.toThrow('down');
    cache.get('t');
    expect(pending).toHaveLength(4);
  });
});

describe('a cached pointer to a collected version', () => {
  it('is read again, and the answer comes from the popular list of the new version', async () => {
    const tmp = tempDir();
    const store = await seededStore(tmp.dir);
    const pointers = new TtlCache(60_000, (tenantId) => store.getActive(tenantId));
    const svc = service(store, undefined, undefined, (t) => pointers.get(t));
    expect((await svc.related(request, 'before')).version).toBe('v1');
    await store.writePopular('t', 'v2', [{ postId: 'pop-v2', score: 1 }]);
    await activateNewVersion(store);
    // Collected while this process still holds the pointer (it stalled past the grace period).
    await store.deleteVersion('t', 'v1');
    expect(await svc.related({ ...request, postId: 'gone' }, 'after')).toMatchObject({
      version: 'v2',
      fallback: true,
      items: [{ postId: 'pop-v2' }],
    });
    await store.close();
    tmp.cleanup();
  });
});

describe('the list cache', () => {
  it('reads a list of the active version from the store once, and the new version after activation', async () => {
    const tmp = tempDir();
    const store = await seededStore(tmp.dir);
    const reads: string[] = [];
    const counting = Object.assign(Object.create(store), {
      getListAt: (tenantId: string, version: string, algorithm: string, postId: string) => {
        reads.push(`${version}/${postId}`);
        return store.getListAt(tenantId, version, algorithm, postId);
      },
    });
    const pointers = new TtlCache(50, (tenantId) => store.getActive(tenantId));
    const svc = service(counting, undefined, undefined, (t) => pointers.get(t), new ListCache(10));
    for (let i = 0; i < 5; i++)
      expect(await svc.related(request, `r${i}`)).toMatchObject({
        version: 'v1',
        items: [{ postId: 'p2' }, { postId: 'p3' }],
      });
    expect(reads).toEqual(['v1/p1']);
    await activateNewVersion(store);
    await new Promise((r) => setTimeout(r, 60));
    expect(await svc.related({ ...request, limit: 1 }, 'new')).toMatchObject({
      version: 'v2',
      items: [{ postId: 'new' }],
    });
    expect(reads).toEqual(['v1/p1', 'v2/p1']);
    await store.close();
    tmp.cleanup();
  });

  it('keeps no failed read and drops the least recently used entry first', async () => {
    const cache = new ListCache(2);
    const loads: string[] = [];
    const load = (name: string) => async () => {
      loads.push(name);
      return name === 'missing' ? null : [{ postId: name, score: 1 }];
    };
    await expect(
      cache.read(['t', 'v1', 'a'], () => Promise.reject(new Error('unavailable'))),
    ).rejects.toThrow('unavailable');
    expect(await cache.read(['t', 'v1', 'a'], load('a'))).toEqual([{ postId: 'a', score: 1 }]);
    expect(await cache.read(['t', 'v1', 'missing'], load('missing'))).toBeNull();
    await cache.read(['t', 'v1', 'a'], load('a')); // hit: "missing" is now the oldest
    await cache.read(['t', 'v1', 'b'], load('b')); // evicts "missing"
    await cache.read(['t', 'v1', 'a'], load('a')); // hit: "b" is now the oldest
    await cache.read(['t', 'v1', 'missing'], load('missing')); // evicts "b"
    await cache.read(['t', 'v1', 'b'], load('b'));
    expect(loads).toEqual(['a', 'missing', 'b', 'missing', 'b']);
    expect(cache.size).toBe(2);
    const off = new ListCache(0);
    await off.read(['t', 'v1', 'a'], load('a'));
    await off.read(['t', 'v1', 'a'], load('a'));
    expect(loads.slice(5)).toEqual(['a', 'a']);
    expect(off.size).toBe(0);
  });
});

describe('stdout logs (production)', () => {
  it('writes one Cloud Logging entry per record: logName plus the record as JSON text', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk) => (text += String(chunk)));
    const sink = new StdoutLogSink(out);
    const exposure = { requestId: 'r1', tenantId: 'acme', items: [{ postId: 'p"2', rank: 1 }] };
    sink.write('exposure', exposure);
    sink.write('outcome', { eventId: 'e1', requestId: 'r1', team: null });
    await sink.flush();
    const entries = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(entries.map((e) => e.logName)).toEqual(['osusume-exposure', 'osusume-outcome']);
    expect(JSON.parse(entries[0].record)).toEqual(exposure);
    expect(JSON.parse(entries[1].record)).toEqual({ eventId: 'e1', requestId: 'r1', team: null });
  });
});

describe('the answer as JSON text', () => {
  it('quotes any string exactly as JSON.stringify does (property-based)', () => {
    const escaped = fc.constantFrom(
      '"',
      '\\',
      '\n',
      '\u0000',
      '\u001f',
      '\ud800',
      '\udfff',
      '\u2028',
    );
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.stringMatching(/^[A-Za-z0-9._~-]{0,40}$/),
      fc
        .tuple(fc.stringMatching(/^[a-z0-9-]{0,20}$/), escaped, fc.stringMatching(/^[a-z]{0,5}$/))
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(anyString, (value) => {
        expect(text(value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 5000 },
    );
    // A surrogate pair is one character: JSON keeps it as it is.
    expect(text('\ud83d\ude00')).toBe(JSON.stringify('\ud83d\ude00'));
  });

  it('is exactly JSON.stringify of the response, exposure and assignment objects (property-based)', () => {
    const anyText = fc.string({ unit: 'binary', maxLength: 20 });
    const orNull = fc.option(anyText, { nil: null });
    const item = fc.record(
      { postId: anyText, score: fc.double(), team: anyText },
      { requiredKeys: ['postId', 'score'] },
    );
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 12 }),
        fc.record({
          requestId: anyText,
          tenantId: anyText,
          postId: anyText,
          algorithm: anyText,
          version: orNull,
          experiment: orNull,
          variant: orNull,
          fallback: fc.boolean(),
        }),
        fc.record({
          surface: anyText,
          userId: anyText,
          ts: anyText,
          split: orNull,
          latencyMs: fc.double(),
          notEnrolled: orNull,
          notEnrolledReason: orNull,
        }),
        (items, body, extra) => {
          const listed = items.map((i, rank) =>
            i.team === undefined
              ? { postId: i.postId, rank: rank + 1, score: i.score }
              : { postId: i.postId, rank: rank + 1, score: i.score, team: i.team },
          );
          const json = itemsJson(items as TeamItem[]);
          expect(json).toBe(JSON.stringify(listed));
          // Items read with their score's JSON text (LMDB) give the same text.
          const withText = items.map((i) => ({ ...i, scoreJson: numberJson(i.score) }));
          expect(itemsJson(withText as TeamItem[])).toBe(json);
          expect(responseJson(body, json)).toBe(
            JSON.stringify({
              requestId: body.requestId,
              tenantId: body.tenantId,
              postId: body.postId,
              items: listed,
              algorithm: body.algorithm,
              version: body.version,
              experiment: body.experiment,
              variant: body.variant,
              fallback: body.fallback,
            }),
          );
          const record = {
            requestId: body.requestId,
            tenantId: body.tenantId,
            surface: extra.surface,
            userId: extra.userId,
            ts: extra.ts,
            postId: body.postId,
            experiment: body.experiment,
            variant: body.variant,
            split: extra.split,
            algorithm: body.algorithm,
            version: body.version,
            latencyMs: extra.latencyMs,
            fallback: body.fallback,
            notEnrolled: extra.notEnrolled,
            notEnrolledReason: extra.notEnrolledReason,
          };
          if (body.experiment !== null) {
            const assignment = {
              requestId: body.requestId,
              tenantId: body.tenantId,
              surface: extra.surface,
              userId: extra.userId,
              ts: extra.ts,
              experiment: body.experiment,
              variant: body.variant,
            };
            expect(assignmentJson(assignment)).toBe(JSON.stringify(assignment));
          }
          const { latencyMs, fallback, notEnrolled, notEnrolledReason, ...head } = record;
          expect(exposureJson(record, json)).toBe(
            JSON.stringify({
              ...head,
              items: listed,
              latencyMs,
              fallback,
              notEnrolled,
              notEnrolledReason,
            }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('file logs', () => {
  it('writes every line whole and in order across chunk boundaries and reused chunks, long and non-ASCII lines included', async () => {
    const tmp = tempDir();
    const sink = new FileLogSink(tmp.dir);
    const records = Array.from({ length: 3000 }, (_, i) => ({
      requestId: `r${i}`,
      // Lines of varied length and width: some far longer than a 64 KiB chunk.
      userId: i % 7 === 0 ? 'ユーザー😀'.repeat(i % 5) : 'u'.repeat(i % 300),
      items: i % 1000 === 999 ? 'x'.repeat(100_000) : [],
    }));
    for (const [i, record] of records.entries()) {
      sink.write(i % 2 === 0 ? 'exposure' : 'assignment', record);
      // Written-out chunks take later lines: some flushes are awaited, others still writing
      // while lines arrive.
      if (i % 400 === 0) await sink.flush();
      else if (i % 400 === 200) void sink.flush();
    }
    await sink.flush();
    const read = (log: string) =>
      readdirSync(tmp.dir)
        .filter((f) => f.startsWith(log))
        .flatMap((f) => readFileSync(path.join(tmp.dir, f), 'utf8').trimEnd().split('\n'))
        .map((l) => JSON.parse(l));
    expect(read('exposure')).toEqual(records.filter((_, i) => i % 2 === 0));
    expect(read('assignment')).toEqual(records.filter((_, i) => i % 2 === 1));
    tmp.cleanup();
  });
});
