import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { LocalArtifactStore, runArtifact, tenantFolder } from '../core/artifacts.js';
import { loadConfig, parseConfig } from '../core/config.js';
import { ConfigError, plural } from '../core/errors.js';
import { log } from '../core/log.js';
import { median } from '../core/stats.js';
import {
  decodeIdFromFirestore,
  encodeIdForFirestore,
  idSchema,
  parseTenantId,
} from '../core/ids.js';
import { validatePostRow } from '../core/posts.js';
import { decodeVectors, encodeVectors } from '../core/vectors.js';
import { tempDir } from './helpers/fixtures.js';

describe('configuration', () => {
  it('defaults to the embedded stand-ins, with paths resolved from the base folder', () => {
    const config = parseConfig({}, '/srv/app');
    expect(config.warehouse).toEqual({
      kind: 'duckdb',
      path: '/srv/app/.osusume/warehouse.duckdb',
    });
    expect(config.store).toEqual({ kind: 'lmdb', path: '/srv/app/.osusume/store.lmdb' });
    expect(config.neighbours.k).toBe(20);
  });

  it('refuses to collect replaced versions before every API has dropped its pointer to them', () => {
    expect(() =>
      parseConfig({ api: { reloadSeconds: 60 }, pipeline: { supersededGraceSeconds: 30 } }, '/'),
    ).toThrow(/pipeline\.supersededGraceSeconds: must be longer than api\.reloadSeconds/);
  });

  it('caches lists in the API on Firestore and not on LMDB, unless told', () => {
    const firestore = { kind: 'firestore', projectId: 'demo' };
    expect(parseConfig({}, '/').api.listCacheSize).toBe(0);
    expect(parseConfig({ store: firestore }, '/').api.listCacheSize).toBe(10_000);
    expect(
      parseConfig({ store: firestore, api: { listCacheSize: 0 } }, '/').api.listCacheSize,
    ).toBe(0);
    expect(parseConfig({ api: { listCacheSize: 50 } }, '/').api.listCacheSize).toBe(50);
  });

  it('names every offending entry and says what to do', () => {
    expect(() => parseConfig({ neighbours: { k: 0 }, store: { kind: 'redis' } }, '/')).toThrow(
      /Invalid configuration in configuration:\n {2}- store.kind: .*\n {2}- neighbours.k: .*\nFix these entries/,
    );
  });

  it('reads OSUSUME_CONFIG, and says when that file is missing or not YAML', () => {
    const tmp = tempDir();
    writeFileSync(`${tmp.dir}/c.yaml`, 'store: { kind: firestore, projectId: demo }\n');
    expect(loadConfig({ OSUSUME_CONFIG: 'c.yaml' }, tmp.dir).store).toMatchObject({
      kind: 'firestore',
      projectId: 'demo',
      databaseId: '(default)',
    });
    expect(() => loadConfig({ OSUSUME_CONFIG: 'nope.yaml' }, tmp.dir)).toThrow(
      new ConfigError(
        `OSUSUME_CONFIG points to ${tmp.dir}/nope.yaml, which does not exist: set it to the path of your configuration file, or unset it to read ./osusume.config.yaml (or the defaults, without one).`,
      ),
    );
    writeFileSync(`${tmp.dir}/bad.yaml`, 'store: [\n');
    // One line: where the syntax breaks and what to do, without the yaml library's code frame.
    expect(() => loadConfig({ OSUSUME_CONFIG: 'bad.yaml' }, tmp.dir)).toThrow(
      /^Cannot parse .*bad.yaml as YAML: [^\n]* at line 2, column 1; fix it and run again\.$/,
    );
    tmp.cleanup();
  });

  it('takes the document itself from OSUSUME_CONFIG_YAML before any file (the cloud deployment)', () => {
    const tmp = tempDir();
    writeFileSync(`${tmp.dir}/osusume.config.yaml`, 'neighbours: { k: 5 }\n');
    const env = { OSUSUME_CONFIG_YAML: '{"neighbours":{"k":7},"artifactsDir":"/mnt/artifacts"}' };
    const config = loadConfig(env, tmp.dir);
    expect(config.neighbours.k).toBe(7);
    expect(config.artifactsDir).toBe('/mnt/artifacts');
    expect(() => loadConfig({ OSUSUME_CONFIG_YAML: '{"neighbours":{"k":0}}' }, tmp.dir)).toThrow(
      /Invalid configuration in OSUSUME_CONFIG_YAML:\n {2}- neighbours.k/,
    );
    expect(() => loadConfig({ OSUSUME_CONFIG_YAML: 'a: [' }, tmp.dir)).toThrow(
      /Cannot parse OSUSUME_CONFIG_YAML as YAML/,
    );
    tmp.cleanup();
  });

  it('takes Temporal settings from the environment, where an empty variable counts as unset', () => {
    const tmp = tempDir();
    writeFileSync(`${tmp.dir}/osusume.config.yaml`, 'temporal: { address: "t.example:7233" }\n');
    const set = loadConfig(
      { TEMPORAL_ADDRESS: 'env.example:7233', TEMPORAL_NAMESPACE: 'ns' },
      tmp.dir,
    );
    expect(set.temporal).toMatchObject({ address: 'env.example:7233', namespace: 'ns' });
    const empty = loadConfig({ TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '' }, tmp.dir);
    expect(empty.temporal).toMatchObject({ address: 't.example:7233', namespace: 'default' });
    tmp.cleanup();
  });

  it("resolves the file's Temporal TLS paths from its folder, and the environment's from the current one", () => {
    const tmp = tempDir();
    mkdirSync(`${tmp.dir}/conf`);
    writeFileSync(
      `${tmp.dir}/conf/osusume.config.yaml`,
      'temporal: { tlsCertFile: certs/client.pem, tlsKeyFile: certs/client.key }\n',
    );
    const env = { OSUSUME_CONFIG: 'conf/osusume.config.yaml' };
    expect(loadConfig(env, tmp.dir).temporal).toMatchObject({
      tlsCertFile: `${tmp.dir}/conf/certs/client.pem`,
      tlsKeyFile: `${tmp.dir}/conf/certs/client.key`,
    });
    const fromEnv = { ...env, TEMPORAL_TLS_CERT: 'c.pem', TEMPORAL_TLS_KEY: 'c.key' };
    expect(loadConfig(fromEnv, tmp.dir).temporal).toMatchObject({
      tlsCertFile: 'c.pem',
      tlsKeyFile: 'c.key',
    });
    expect(parseConfig({}, '/srv').temporal.tlsCertFile).toBeUndefined();
    tmp.cleanup();
  });

  it('takes the API port from PORT, checked: an empty one counts as unset, a bad one is an error', () => {
    const tmp = tempDir();
    expect(loadConfig({ PORT: '9090' }, tmp.dir).api.port).toBe(9090);
    expect(loadConfig({ PORT: '' }, tmp.dir).api.port).toBe(8080);
    for (const bad of ['abc', '-1', '70000', '80.5'])
      expect(() => loadConfig({ PORT: bad }, tmp.dir)).toThrow(
        new RegExp(
          `PORT is "${bad.replace('.', '\\.')}", not a port number: set it to a whole number`,
        ),
      );
    tmp.cleanup();
  });
});

describe('ids', () => {
  it('rejects empty, overlong, whitespace and control characters with a clear message', () => {
    for (const bad of ['', 'a b', 'x'.repeat(129), 'a\u0000b', 'tab\t', 42])
      expect(() => parseTenantId(bad)).toThrow(/Invalid tenant id/);
    expect(parseTenantId('acme/東京.jp')).toBe('acme/東京.jp');
  });

  it('encodes any valid id into a legal Firestore document id, reversibly', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 128, unit: 'grapheme' }), (id) => {
        fc.pre(idSchema.safeParse(id).success);
        const encoded = encodeIdForFirestore(id);
        expect(encoded).not.toContain('/');
        expect(encoded).not.toMatch(/^__.*__$/);
        expect(['.', '..']).not.toContain(encoded);
        expect(decodeIdFromFirestore(encoded)).toBe(id);
      }),
    );
  });
});

describe('artifacts and vectors', () => {
  it('refuses path segments and URIs that leave the artifact folder', async () => {
    const tmp = tempDir();
    const store = new LocalArtifactStore(tmp.dir);
    expect(() => store.uri('runs', '..', 'x')).toThrow(/Unsafe artifact path segment/);
    expect(() => store.uri('a/b')).toThrow(/Unsafe/);
    await expect(store.read('file:///etc/passwd')).rejects.toThrow(/outside the artifact folder/);
    await store.write(store.uri('x', 'y.txt'), 'hello');
    expect(await store.list(store.uri('x'))).toEqual([store.uri('x', 'y.txt')]);
    tmp.cleanup();
  });

  it('gives every valid tenant id a folder the file system takes, and short ids their usual one', async () => {
    const tmp = tempDir();
    const store = new LocalArtifactStore(tmp.dir);
    const long = ['あ'.repeat(128), 'あ'.repeat(127) + 'い', '😀'.repeat(64)];
    for (const id of long) expect(idSchema.safeParse(id).success).toBe(true);
    for (const id of long) await store.write(runArtifact(store, 'r1', id, 'state.json'), id);
    for (const id of long)
      expect(String(await store.read(runArtifact(store, 'r1', id, 'state.json')))).toBe(id);
    expect(tenantFolder('acme')).toBe('t-YWNtZQ');
    tmp.cleanup();
  });

  it('keeps URIs relative to the folder, and re-roots absolute ones from a moved checkout', async () => {
    const tmp = tempDir();
    const store = new LocalArtifactStore(tmp.dir);
    const uri = store.uri('runs', 'r1', 'snapshot.jsonl');
    expect(uri).toBe('runs/r1/snapshot.jsonl');
    await store.write(uri, 'rows');
    expect(readFileSync(path.join(tmp.dir, 'runs/r1/snapshot.jsonl'), 'utf8')).toBe('rows');
    // What an earlier version stored: the checkout's absolute path at the time.
    const moved = pathToFileURL('/gone/checkout/.osusume/artifacts/runs/r1/snapshot.jsonl').href;
    expect((await store.read(moved)).toString()).toBe('rows');
    const inside = pathToFileURL(path.join(tmp.dir, 'runs/r1/snapshot.jsonl')).href;
    expect((await store.read(inside)).toString()).toBe('rows');
    for (const bad of ['../x', '/etc/passwd', 'runs/../../x', 'runs//r1'])
      await expect(store.read(bad)).rejects.toThrow(/not a path inside the artifact folder/);
    tmp.cleanup();
  });

  it('finds the newest write under a folder, and removes partial writes older than a time', async () => {
    const tmp = tempDir();
    const store = new LocalArtifactStore(tmp.dir);
    await store.write(store.uri('runs', 'r1', 'a.txt'), 'a');
    const written = (await store.modifiedAt(store.uri('runs', 'r1', 'a.txt')))!;
    expect(await store.modifiedAt(store.uri('runs'))).toBeGreaterThanOrEqual(written);
    expect(await store.modifiedAt(store.uri('nothing'))).toBeNull();
    // What a crash between writing and renaming leaves: invisible to list, removed once stale.
    writeFileSync(path.join(tmp.dir, 'runs', 'r1', 'b.txt.tmp-1-2'), 'partial');
    expect(await store.list(store.uri('runs', 'r1'))).toEqual([store.uri('runs', 'r1', 'a.txt')]);
    expect(await store.removePartialWrites(written - 60_000)).toBe(0);
    expect(await store.removePartialWrites(Date.now() + 1000)).toBe(1);
    expect(readdirSync(path.join(tmp.dir, 'runs', 'r1'))).toEqual(['a.txt']);
    tmp.cleanup();
  });

  it('removes the partial file of a write that fails, and names the folder', async () => {
    const tmp = tempDir();
    const store = new LocalArtifactStore(tmp.dir);
    // A folder where the file goes: the rename fails, as a full disk fails the write.
    mkdirSync(path.join(tmp.dir, 'runs', 'r1', 'a.txt', 'x'), { recursive: true });
    await expect(store.write(store.uri('runs', 'r1', 'a.txt'), 'a')).rejects.toThrow(
      `Cannot write runs/r1/a.txt in the artifact folder ${tmp.dir}`,
    );
    expect(readdirSync(path.join(tmp.dir, 'runs', 'r1'))).toEqual(['a.txt']);
    tmp.cleanup();
  });

  it('round-trips a vector file', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const decoded = decodeVectors(
      encodeVectors({ dim: 3, count: 2, keys: ['a', 'ü'], data, meta: { modelId: 'm' } }),
    );
    expect(decoded).toEqual({ dim: 3, count: 2, keys: ['a', 'ü'], data, meta: { modelId: 'm' } });
    const whole = encodeVectors({ dim: 3, count: 2, keys: ['a', 'b'], data });
    expect(() => decodeVectors(whole.subarray(0, whole.length - 4))).toThrow(
      'Truncated vector file: 20 bytes of rows where its header says 2 x 3 floats. Run the tenant again',
    );
    expect(() => decodeVectors(whole.subarray(0, 10))).toThrow(/^Not a vector file/);
  });
});

describe('post rows', () => {
  const limits = { maxPostChars: 1000, maxTextChars: 100 };
  const row = {
    tenantId: 't',
    postId: 'p',
    title: 'T',
    body: 'B',
    createdAt: '2024-01-01 00:00:00',
    updatedAt: '2024-01-02T00:00:00Z',
  };
  it('accepts DuckDB and ISO timestamps and says why a row is skipped', () => {
    expect(validatePostRow(row, limits)).toMatchObject({
      ok: true,
      post: { createdAt: '2024-01-01T00:00:00.000Z', deleted: false },
    });
    expect(validatePostRow({ ...row, updatedAt: 'soon' }, limits)).toMatchObject({
      ok: false,
      reason: 'malformed',
      detail: expect.stringContaining('updatedAt'),
    });
    expect(validatePostRow({ ...row, title: null, body: '' }, limits)).toMatchObject({
      ok: false,
      reason: 'empty',
    });
    expect(validatePostRow({ ...row, body: 'x'.repeat(1000) }, limits)).toMatchObject({
      ok: false,
      reason: 'too-large',
    });
    expect(validatePostRow({ ...row, body: 'bad \uFFFD byte' }, limits)).toMatchObject({
      ok: false,
      reason: 'invalid-utf8',
    });
    expect(validatePostRow({ ...row, title: '', body: '', deleted: true }, limits)).toMatchObject({
      ok: true,
    });
  });
});

describe('the logger', () => {
  it('writes JSON lines at or above OSUSUME_LOG_LEVEL, and says once what to do with a bad level', () => {
    const lines: Record<string, unknown>[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((line) => {
      lines.push(JSON.parse(String(line)));
      return true;
    });
    const level = process.env.OSUSUME_LOG_LEVEL;
    try {
      process.env.OSUSUME_LOG_LEVEL = 'warn';
      log.info('hidden');
      log.warn('shown', { tenantId: 't' });
      process.env.OSUSUME_LOG_LEVEL = 'toString';
      log.debug('hidden too');
      log.info('at info');
      log.info('again');
    } finally {
      stderr.mockRestore();
      process.env.OSUSUME_LOG_LEVEL = level;
      if (level === undefined) delete process.env.OSUSUME_LOG_LEVEL;
    }
    expect(lines.map((l) => [l.severity, l.message])).toEqual([
      ['WARN', 'shown'],
      [
        'WARN',
        'OSUSUME_LOG_LEVEL is "toString": set it to debug, info, warn or error. Logging at info.',
      ],
      ['INFO', 'at info'],
      ['INFO', 'again'],
    ]);
    expect(lines[0]).toMatchObject({ service: 'osusume', tenantId: 't' });
  });
});

describe('median', () => {
  it('is the middle value, the upper middle for an even count, without reordering its input', () => {
    const xs = [3, 1, 2, 10];
    expect(median([5, 1, 3])).toBe(3);
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([3, 1, 2, 10]);
  });
});

describe('plural', () => {
  it('is singular for exactly one, plural for zero and more, with an irregular plural when given', () => {
    expect(plural(1, 'tenant')).toBe('1 tenant');
    expect(plural(0, 'tenant')).toBe('0 tenants');
    expect(plural(3, 'tenant')).toBe('3 tenants');
    expect(plural(1, 'tenant id')).toBe('1 tenant id');
    expect(plural(2, 'query', 'queries')).toBe('2 queries');
    expect(plural(1, 'query', 'queries')).toBe('1 query');
  });
});
