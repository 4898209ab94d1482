import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryWarehouse } from '../core/warehouse/bigquery.js';
import { BadDataError, ConfigError } from '../core/errors.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';
import {
  type BigQueryRequest,
  queryParameters,
  startBigQueryStandIn,
} from './helpers/bigquery-rest.js';
import { ROOT, runOsusume } from './helpers/cli.js';
import { tempDir, writeJsonl } from './helpers/fixtures.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const post = (tenantId: string, postId: string, updatedAt: string) => ({
  tenantId,
  postId,
  title: `title ${postId}`,
  body: 'body',
  createdAt: '2024-01-01T00:00:00Z',
  updatedAt,
});

const record = {
  runId: '2026-11-22',
  tenantId: 'acme',
  recordedAt: '2026-11-22T18:00:00.000Z',
  codeVersion: 'osusume@0.1.0',
  modelId: 'abc',
  params: { k: 20, algorithms: ['embedding'] },
  inputs: { posts: 10 },
  metrics: { lists: 10 },
  seconds: { extract: 0.5 },
  artifacts: { snapshot: 'file:///s' },
};

describe('DuckDB warehouse', () => {
  it("stores times in UTC as BigQuery does, whatever the offset or the machine's zone", async () => {
    const zone = process.env.TZ;
    // DuckDB takes its zone from TZ at its first use of one in the process: this test comes first.
    process.env.TZ = 'Asia/Tokyo';
    try {
      const w = await DuckDbWarehouse.open(`${tmp.dir}/tz.duckdb`);
      const jsonl = writeJsonl(`${tmp.dir}/tz.jsonl`, [
        { ...post('t', 'offset', '2024-02-01T09:00:00+09:00'), createdAt: '2024-02-01' },
      ]);
      const parquet = `${tmp.dir}/tz.parquet`;
      const duck = await DuckDBInstance.create(':memory:');
      const connection = await duck.connect();
      await connection.run(
        `COPY (SELECT 't' AS tenantId, 'parquet' AS postId, 'x' AS title,
                      TIMESTAMPTZ '2024-02-01 00:00:00+00' AS createdAt,
                      TIMESTAMPTZ '2024-02-01 00:00:00+00' AS updatedAt)
           TO '${parquet}' (FORMAT parquet)`,
      );
      connection.closeSync();
      duck.closeSync();
      await w.importFiles([
        { table: 'posts', file: jsonl },
        { table: 'posts', file: parquet },
      ]);
      const times = (await w.readPosts('t')).map((r) => [r.postId, r.createdAt, r.updatedAt]);
      expect(times).toEqual([
        ['offset', '2024-02-01 00:00:00', '2024-02-01 00:00:00'],
        ['parquet', '2024-02-01 00:00:00', '2024-02-01 00:00:00'],
      ]);
      await w.close();
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('records runs (a re-run replaces its record) and lists them newest first', async () => {
    const w = await DuckDbWarehouse.open(`${tmp.dir}/runs.duckdb`);
    await w.writeRunRecord(record);
    await w.writeRunRecord({ ...record, metrics: { lists: 11 } });
    await w.writeRunRecord({
      ...record,
      runId: '2026-11-23',
      recordedAt: '2026-11-23T18:00:00.000Z',
    });
    await w.writeRunRecord({ ...record, tenantId: 'beta' });
    const acme = await w.listRunRecords({ tenantId: 'acme', limit: 10 });
    expect(acme.map((r) => r.runId)).toEqual(['2026-11-23', '2026-11-22']);
    expect(acme[1]).toEqual({ ...record, metrics: { lists: 11 } });
    expect(await w.listRunRecords({ limit: 10 })).toHaveLength(3);
    await w.close();
  });

  it('keeps the record of an activated run when a re-run of its id fails, as BigQuery does', async () => {
    const w = await DuckDbWarehouse.open(`${tmp.dir}/failed-rerun.duckdb`);
    const failed = {
      ...record,
      recordedAt: '2026-11-23T18:00:00.000Z',
      failure: { error: 'store unreachable' },
    };
    await w.writeRunRecord(record);
    await w.writeRunRecord({ ...failed, failure: { error: 'first' } });
    await w.writeRunRecord(failed);
    expect(await w.listRunRecords({ tenantId: 'acme', limit: 10 })).toEqual([failed, record]);
    await w.close();
  });

  it('imports JSONL, skips and counts malformed or non-UTF-8 lines, and reads by tenant and watermark', async () => {
    const file = `${tmp.dir}/posts.jsonl`;
    writeJsonl(file, [
      post('a', '1', '2024-01-02T00:00:00Z'),
      '{not json',
      post('a', '2', '2024-01-05T10:00:00Z'),
      post('b', '1', '2024-01-03T00:00:00Z'),
    ]);
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(`{"tenantId":"a","postId":"3","title":"`),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}\n'),
      ]),
      { flag: 'a' },
    );
    const w = await DuckDbWarehouse.open(`${tmp.dir}/w1.duckdb`);
    expect(await w.importFile('posts', file)).toEqual({ table: 'posts', rows: 3, skipped: 2 });
    expect(await w.listTenants()).toEqual([
      { tenantId: 'a', posts: 2 },
      { tenantId: 'b', posts: 1 },
    ]);
    expect((await w.readPosts('a')).map((r) => r.postId)).toEqual(['1', '2']);
    expect((await w.readPosts('a', '2024-01-03T00:00:00Z')).map((r) => r.postId)).toEqual(['2']);
    // An id is a value, never SQL.
    expect(await w.readPosts("a' OR '1'='1")).toEqual([]);
    await w.close();
  });

  it('skips a line with a lone surrogate escape, naming its field, as DuckDB would drop it unnamed', async () => {
    const row = JSON.stringify(post('s', '1', '2024-01-02T00:00:00Z'));
    const file = writeJsonl(`${tmp.dir}/surrogates.jsonl`, [
      row.replace('"title":"', '"title":"bike \\ud800 chain'),
      row.replace('{', '{"note":"\\udfff",'),
      row
        .replace('"postId":"1"', '"postId":"2"')
        .replace('"title":"', '"title":"\\ud83d\\ude00 \\\\ud800'),
    ]);
    const w = await DuckDbWarehouse.open(`${tmp.dir}/surrogates.duckdb`);
    const skipped: string[] = [];
    expect(
      await w.importFile('posts', file, {
        onSkipped: (r) => skipped.push(`${r.line}: ${r.reason}`),
      }),
    ).toEqual({ table: 'posts', rows: 1, skipped: 2 });
    const reason =
      "holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), which is not text: fix the export's encoding";
    expect(skipped).toEqual([`1: title ${reason}`, `2: note ${reason}`]);
    // A pair is one character, and an escaped backslash before "ud800" no surrogate at all.
    expect((await w.readPosts('s')).map((p) => p.title)).toEqual(['😀 \\ud800title 1']);
    await w.close();
  });

  it('imports Parquet exports and interactions, and replace empties the table first', async () => {
    const w = await DuckDbWarehouse.open(`${tmp.dir}/w2.duckdb`);
    const jsonl = writeJsonl(`${tmp.dir}/p.jsonl`, [post('t', 'x', '2024-02-01T00:00:00Z')]);
    const parquet = `${tmp.dir}/posts.parquet`;
    // COPY takes no parameters; both paths are this test's own temporary files.
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    await connection.run(
      `COPY (SELECT * FROM read_json('${jsonl}')) TO '${parquet}' (FORMAT parquet)`,
    );
    connection.closeSync();
    duck.closeSync();
    expect((await w.importFile('posts', parquet)).rows).toBe(1);
    expect((await w.importFile('posts', parquet, { replace: true })).rows).toBe(1);
    expect(await w.listTenants()).toEqual([{ tenantId: 't', posts: 1 }]);
    const events = writeJsonl(`${tmp.dir}/i.jsonl`, [
      { tenantId: 't', userId: 'u', postId: 'x', type: 'view', ts: '2024-02-02T00:00:00Z' },
    ]);
    expect((await w.importFile('interactions', events)).rows).toBe(1);
    expect(await w.readInteractions('t')).toEqual([
      { tenantId: 't', userId: 'u', postId: 'x', type: 'view', ts: '2024-02-02 00:00:00' },
    ]);
    await w.close();
  });

  it('skips interactions without the type or time that BigQuery requires, naming what is missing', async () => {
    const w = await DuckDbWarehouse.open(`${tmp.dir}/required.duckdb`);
    const event = {
      tenantId: 't',
      userId: 'u',
      postId: 'x',
      type: 'view',
      ts: '2024-02-02T00:00:00Z',
    };
    const file = writeJsonl(`${tmp.dir}/required.jsonl`, [
      event,
      { ...event, type: undefined },
      { ...event, ts: null },
    ]);
    const skipped: string[] = [];
    expect(
      await w.importFile('interactions', file, { onSkipped: (row) => skipped.push(row.reason) }),
    ).toEqual({ table: 'interactions', rows: 1, skipped: 2 });
    expect(skipped).toEqual(['no type', 'no ts']);
    // A Parquet export is held to the same rule (it is counted, not checked line by line).
    const parquet = `${tmp.dir}/required.parquet`;
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    await connection.run(
      `COPY (SELECT * FROM (VALUES ('t', 'u', 'x', 'view', TIMESTAMP '2024-02-03 00:00:00'),
                                   ('t', 'u', 'x', NULL, TIMESTAMP '2024-02-03 00:00:00'),
                                   ('t', 'u', 'x', 'view', NULL)) AS v(tenantId, userId, postId, type, ts))
         TO '${parquet}' (FORMAT parquet)`,
    );
    connection.closeSync();
    duck.closeSync();
    expect(await w.importFile('interactions', parquet)).toEqual({
      table: 'interactions',
      rows: 1,
      skipped: 2,
    });
    expect((await w.readInteractions('t')).map((e) => e.ts)).toEqual([
      '2024-02-02 00:00:00',
      '2024-02-03 00:00:00',
    ]);
    await w.close();
  });

  it('refuses a replace with an export that has no valid row, and leaves the table as it was', async () => {
    const w = await DuckDbWarehouse.open(`${tmp.dir}/w3.duckdb`);
    const good = writeJsonl(`${tmp.dir}/good.jsonl`, [post('t', 'x', '2024-02-01T00:00:00Z')]);
    await w.importFile('posts', good);
    const rejected = writeJsonl(`${tmp.dir}/rejected.jsonl`, ['{not json', { tenantId: 't' }]);
    await expect(w.importFile('posts', rejected, { replace: true })).rejects.toThrow(
      new BadDataError(
        `Nothing was loaded: ${rejected} holds no valid posts row (2 lines skipped), and replacing the posts table with it would empty the table. Fix the export and load it again.`,
      ),
    );
    const empty = `${tmp.dir}/empty.jsonl`;
    writeFileSync(empty, '');
    await expect(w.importFile('posts', empty, { replace: true })).rejects.toThrow(
      `Nothing was loaded: ${empty} holds no posts row, and replacing`,
    );
    expect(await w.listTenants()).toEqual([{ tenantId: 't', posts: 1 }]);
    // Without replace, an export without a valid row adds nothing and empties nothing.
    expect(await w.importFile('posts', rejected)).toEqual({ table: 'posts', rows: 0, skipped: 2 });
    await w.close();
  });

  it('imports several exports in one transaction: a failure midway leaves every table as it was', async () => {
    const w = await DuckDbWarehouse.open(`${tmp.dir}/w4.duckdb`);
    const posts = writeJsonl(`${tmp.dir}/p4.jsonl`, [post('t', 'x', '2024-02-01T00:00:00Z')]);
    const events = writeJsonl(`${tmp.dir}/i4.jsonl`, [
      { tenantId: 't', userId: 'u', postId: 'x', type: 'view', ts: '2024-02-02T00:00:00Z' },
    ]);
    await w.importFiles([
      { table: 'posts', file: posts },
      { table: 'interactions', file: events },
    ]);
    // Rows DuckDB refuses only when it inserts them (the checks before it read JSONL only).
    const parquet = `${tmp.dir}/bad-dates.parquet`;
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    await connection.run(
      `COPY (SELECT 't' AS tenantId, 'y' AS postId, 'not a date' AS createdAt) TO '${parquet}' (FORMAT parquet)`,
    );
    connection.closeSync();
    duck.closeSync();
    await expect(w.importFile('posts', parquet, { replace: true })).rejects.toThrow(
      `Importing ${parquet} into posts failed (nothing was imported)`,
    );
    const newPosts = writeJsonl(`${tmp.dir}/p5.jsonl`, [post('u', 'z', '2024-02-01T00:00:00Z')]);
    const noEvents = writeJsonl(`${tmp.dir}/i5.jsonl`, ['{not json']);
    await expect(
      w.importFiles(
        [
          { table: 'posts', file: newPosts },
          { table: 'interactions', file: noEvents },
        ],
        { replace: true },
      ),
    ).rejects.toThrow(`Nothing was loaded: ${noEvents} holds no valid interactions row`);
    expect(await w.listTenants()).toEqual([{ tenantId: 't', posts: 1 }]);
    expect(await w.readInteractions('t')).toHaveLength(1);
    await w.close();
  });
});

describe('a DuckDB warehouse another process has open', () => {
  it('says so and what to do, as osusume load prints it while a worker holds the file', async () => {
    const cwd = `${tmp.dir}/locked`;
    mkdirSync(`${cwd}/.osusume`, { recursive: true });
    const file = `${cwd}/.osusume/warehouse.duckdb`;
    await (await DuckDbWarehouse.open(file)).close();
    // Another process holding it open, as a running `osusume worker` does.
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         await DuckDBInstance.create(${JSON.stringify(file)});
         console.log('open');
         setInterval(() => {}, 60_000);`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await once(holder.stdout!, 'data');
      writeJsonl(`${cwd}/posts.jsonl`, [post('acme', 'p1', '2024-01-01')]);
      const load = await runOsusume(['load', '--posts', 'posts.jsonl'], { cwd });
      expect(load.code).toBe(1);
      expect(load.stderr).toMatch(
        new RegExp(
          `^osusume load: Cannot open the DuckDB warehouse at ${file}: IO Error: Could not set lock on file .*\\(PID ${holder.pid}\\)`,
        ),
      );
      expect(load.stderr).toContain(
        '. DuckDB lets one process at a time open it (an osusume worker keeps it open while it runs, other commands until they end): stop that process or wait for it to end, then run again.\n',
      );
    } finally {
      holder.kill();
    }
  });
});

/**
 * A warehouse file cut short (a copy or a disk that ran out): DuckDB's own message named the file
 * but not what to do, and ended in "Is another process using it?" where the header was cut.
 */
describe('a damaged DuckDB warehouse', () => {
  /** The message for `file`: DuckDB's cause (varying with where the file was cut), then what to do. */
  function expectDamaged(message: string, file: string): void {
    const head = `The DuckDB warehouse ${file} is damaged (IO Error: Could not read enough bytes `;
    const tail = `): move it away (with ${file}.wal, if there is one) and load your exports again (osusume load --posts FILE --interactions FILE, or npm run demo for the demo's), or delete all local state with osusume reset. The run records it held go with it.`;
    expect(message.slice(0, head.length)).toBe(head);
    expect(message.slice(-tail.length)).toBe(tail);
  }

  let whole: Buffer;
  beforeAll(async () => {
    const file = `${tmp.dir}/whole.duckdb`;
    const w = await DuckDbWarehouse.open(file);
    const posts = writeJsonl(`${tmp.dir}/whole.jsonl`, [post('acme', 'p1', '2024-01-01')]);
    await w.importFiles([{ table: 'posts', file: posts }]);
    await w.close();
    whole = readFileSync(file);
  });

  /** The warehouse's first `bytes` bytes, as a file of its own. */
  function cutShort(name: string, bytes: number): string {
    const file = `${tmp.dir}/${name}.duckdb`;
    writeFileSync(file, whole.subarray(0, bytes));
    return file;
  }

  it('cut inside its header: opening it says that it is damaged and how to rebuild it', async () => {
    const file = cutShort('header-cut', 100);
    const error = await DuckDbWarehouse.open(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expectDamaged((error as Error).message, file);
  });

  it('its last block cut short: it opens, its first read says so, and osusume batch prints that in one line', async () => {
    // DuckDB reads a block whole; the last one holds the posts, not the catalog it opens with.
    const file = cutShort('tail-cut', whole.length - 1024);
    const w = await DuckDbWarehouse.open(file);
    const error = await w
      .listTenants()
      .catch((e: unknown) => e)
      .finally(() => w.close());
    expect(error).toBeInstanceOf(ConfigError);
    expectDamaged((error as Error).message, file);

    const cwd = `${tmp.dir}/cli`;
    mkdirSync(`${cwd}/.osusume`, { recursive: true });
    const warehouse = `${cwd}/.osusume/warehouse.duckdb`;
    writeFileSync(warehouse, readFileSync(file));
    const batch = await runOsusume(['batch', '--list'], { cwd });
    expect(batch).toMatchObject({ code: 1, stdout: '' });
    expect(batch.stderr).toMatch(/^osusume batch: [^\n]*\n$/);
    expectDamaged(batch.stderr.slice('osusume batch: '.length, -1), warehouse);
  });
});

describe('BigQuery warehouse against a local REST endpoint', () => {
  const rows = [
    post('acme', 'p1', '2024-01-02T00:00:00Z'),
    post('acme', 'p2', '2024-01-09T00:00:00Z'),
    post('other', 'p1', '2024-01-02T00:00:00Z'),
  ];
  const TYPES: Record<string, string> = {
    posts: 'INTEGER',
    createdAt: 'TIMESTAMP',
    updatedAt: 'TIMESTAMP',
  };
  const answer = (fields: string[], result: Record<string, string>[]) => ({
    fields: fields.map((name) => ({ name, type: TYPES[name] ?? 'STRING' })),
    rows: result.map((r) => fields.map((f) => r[f])),
  });
  let standIn: Awaited<ReturnType<typeof startBigQueryStandIn>>;
  let requests: BigQueryRequest[];
  let endpoint: string;

  beforeAll(async () => {
    standIn = await startBigQueryStandIn(({ body }) => {
      const query = String(body.query ?? '');
      const params = queryParameters(body);
      if (query.includes('run_records'))
        return answer(
          [
            'runId',
            'tenantId',
            'recordedAt',
            'codeVersion',
            'modelId',
            'params',
            'inputs',
            'metrics',
            'seconds',
            'artifacts',
          ],
          [],
        );
      if (query.includes('COUNT(*)')) {
        const counts = new Map<string, number>();
        for (const r of rows) counts.set(r.tenantId, (counts.get(r.tenantId) ?? 0) + 1);
        return answer(
          ['tenantId', 'posts'],
          [...counts.entries()].map(([tenantId, n]) => ({ tenantId, posts: String(n) })),
        );
      }
      return answer(
        ['tenantId', 'postId', 'title', 'body', 'createdAt', 'updatedAt'],
        rows
          .filter(
            (r) =>
              r.tenantId === params.tenantId &&
              (!('since' in params) || Date.parse(r.updatedAt) >= Date.parse(String(params.since))),
          )
          .map((r) => ({
            ...r,
            createdAt: String(Date.parse(r.createdAt) * 1000),
            updatedAt: String(Date.parse(r.updatedAt) * 1000),
          })),
      );
    });
    ({ requests, endpoint } = standIn);
  });
  afterAll(() => standIn.close());

  const warehouse = () =>
    new BigQueryWarehouse({
      projectId: 'proj',
      dataset: 'osusume',
      location: 'US',
      postsTable: 'posts',
      interactionsTable: 'interactions',
      runRecordsTable: 'run_records',
      apiEndpoint: endpoint,
    });

  it('lists tenants and reads posts with named parameters only', async () => {
    requests.length = 0;
    const w = warehouse();
    expect(await w.listTenants()).toEqual([
      { tenantId: 'acme', posts: 2 },
      { tenantId: 'other', posts: 1 },
    ]);
    const evil = "acme' OR 1=1 --";
    expect(await w.readPosts(evil)).toEqual([]);
    const recent = await w.readPosts('acme', '2024-01-05T00:00:00Z');
    expect(recent.map((r) => r.postId)).toEqual(['p2']);
    expect(new Date(String(recent[0]!.updatedAt)).toISOString()).toBe('2024-01-09T00:00:00.000Z');

    const queries = requests.filter(
      (r) => r.method === 'POST' && r.url.split('?')[0] === '/bigquery/v2/projects/proj/queries',
    );
    expect(queries).toHaveLength(3);
    for (const q of queries) {
      expect(q.body.useLegacySql).toBe(false);
      expect(String(q.body.query)).toContain('`proj.osusume.posts`');
      expect(String(q.body.query)).not.toContain('acme');
    }
    expect(String(queries[1]!.body.parameterMode).toUpperCase()).toBe('NAMED');
    expect(queries[1]!.body.queryParameters).toEqual([
      { name: 'tenantId', parameterType: { type: 'STRING' }, parameterValue: { value: evil } },
    ]);
    expect(queries[2]!.body.queryParameters).toContainEqual(
      expect.objectContaining({
        name: 'since',
        parameterType: { type: 'TIMESTAMP' },
        parameterValue: { value: expect.stringMatching(/^2024-01-05/) },
      }),
    );
  });

  it('inserts run records through insertAll with an insert id, and lists them with parameters', async () => {
    requests.length = 0;
    const w = warehouse();
    await w.writeRunRecord(record);
    const insert = requests.find((r) =>
      r.url.startsWith('/bigquery/v2/projects/proj/datasets/osusume/tables/run_records/insertAll'),
    );
    expect(insert?.body).toMatchObject({
      rows: [
        {
          insertId: '2026-11-22/acme',
          json: { runId: '2026-11-22', tenantId: 'acme', params: JSON.stringify(record.params) },
        },
      ],
    });
    expect(await w.listRunRecords({ tenantId: "acme' --", limit: 5 })).toEqual([]);
    const list = requests.at(-1)!;
    expect(String(list.body.query)).not.toContain('acme');
    expect(list.body.queryParameters).toContainEqual({
      name: 'tenantId',
      parameterType: { type: 'STRING' },
      parameterValue: { value: "acme' --" },
    });
  });
});
