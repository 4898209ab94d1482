import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, runOsusume, type Run } from './helpers/cli.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';

/**
 * Bad input to the command line stops a command before it changes anything, with one line that
 * names the file or value and says what to do. Each command runs as a real process, as a user runs
 * it, in a scratch folder holding its own default state (.osusume/).
 */
const work = mkdtempSync(path.join(tmpdir(), 'osusume-cli-safety-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function osusume(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runOsusume(args, { cwd, env });
}

const words = ['disk', 'quota', 'mount', 'kernel', 'network', 'socket'];
const post = (i: number) =>
  JSON.stringify({
    tenantId: 'acme',
    postId: `p${i}`,
    title: `${words[i % 6]} ${words[(i * 5) % 6]} question ${i}`,
    body: `How do I set up the ${words[i % 6]} with a ${words[(i + 1) % 6]}?`,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  });

/** A scratch folder whose warehouse holds tenant acme with 12 posts. */
async function loaded(name: string): Promise<string> {
  const dir = mkdtempSync(path.join(work, `${name}-`));
  writeFileSync(
    path.join(dir, 'posts.jsonl'),
    Array.from({ length: 12 }, (_, i) => post(i)).join('\n') + '\n',
  );
  expect((await osusume(['load', '--posts', 'posts.jsonl'], dir)).code).toBe(0);
  return dir;
}

/** What `osusume runs --json` prints: nothing when no tenant is served and no run recorded. */
async function runsJson(dir: string): Promise<string> {
  const runs = await osusume(['runs', '--json'], dir);
  expect(runs.code).toBe(0);
  return runs.stdout.trim();
}

describe('load', () => {
  it('--skipped FILE it cannot write stops it before anything is loaded, naming the file', async () => {
    const dir = mkdtempSync(path.join(work, 'load-skipped-'));
    writeFileSync(path.join(dir, 'posts.jsonl'), `${post(1)}\n{broken\n`);
    const missing = await osusume(
      ['load', '--posts', 'posts.jsonl', '--skipped', `${dir}/nonexist/d/s.jsonl`],
      dir,
    );
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe(
      `osusume load: Cannot write the --skipped file: the folder ${dir}/nonexist/d does not exist. Pass --skipped a file in a folder you can write to (nothing was changed).\n`,
    );
    const folder = await osusume(['load', '--posts', 'posts.jsonl', '--skipped', dir], dir);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toBe(
      `osusume load: Cannot write the --skipped file: ${dir} is a folder. Pass --skipped a file in a folder you can write to (nothing was changed).\n`,
    );
    expect(existsSync(path.join(dir, '.osusume'))).toBe(false);
  });

  it('--skipped naming the export it loads is refused before the export is overwritten', async () => {
    const dir = mkdtempSync(path.join(work, 'load-same-'));
    const text = `${post(1)}\n{broken\n`;
    writeFileSync(path.join(dir, 'posts.jsonl'), text);
    const same = await osusume(
      ['load', '--posts', 'posts.jsonl', '--skipped', `${dir}/posts.jsonl`],
      dir,
    );
    expect(same.code).toBe(1);
    expect(same.stderr).toBe(
      'osusume load: --skipped posts.jsonl is the posts file being loaded: pass --skipped another file (nothing was changed).\n',
    );
    expect(readFileSync(path.join(dir, 'posts.jsonl'), 'utf8')).toBe(text);
  });

  it('--replace with an export that has no valid row refuses and leaves the table as it was', async () => {
    const dir = await loaded('load-replace');
    writeFileSync(
      path.join(dir, 'bad.jsonl'),
      ['{broken', JSON.stringify({ tenantId: 'acme', postId: 42 }), '[]'].join('\n') + '\n',
    );
    const bad = await osusume(['load', '--posts', 'bad.jsonl', '--replace'], dir);
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toContain('  skipped bad.jsonl:2: postId is a number (42), not a string');
    expect(bad.stderr).toContain(
      'osusume load: Nothing was loaded: bad.jsonl holds no valid posts row (3 lines skipped), and replacing the posts table with it would empty the table. Fix the export and load it again. Why each line was skipped: listed above.\n',
    );
    const listed = await osusume(
      ['load', '--posts', 'bad.jsonl', '--replace', '--skipped', 'skipped.jsonl'],
      dir,
    );
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain(
      '(3 lines skipped), and replacing the posts table with it would empty the table. Fix the export and load it again. Why each line was skipped: listed in skipped.jsonl.\n',
    );
    expect(readFileSync(path.join(dir, 'skipped.jsonl'), 'utf8').trim().split('\n')).toHaveLength(
      3,
    );
    writeFileSync(path.join(dir, 'empty.jsonl'), '\n');
    const empty = await osusume(['load', '--interactions', 'empty.jsonl', '--replace'], dir);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe(
      'osusume load: Nothing was loaded: empty.jsonl holds no interactions row, and replacing the interactions table with it would empty the table. Fix the export and load it again.\n',
    );
    expect((await osusume(['batch', '--list'], dir)).stdout).toBe('acme\t12 posts\n');
  });

  it('--replace of two tables is one transaction: a refused file leaves the other table as it was', async () => {
    const dir = await loaded('load-both');
    writeFileSync(path.join(dir, 'new.jsonl'), `${post(1)}\n`);
    writeFileSync(path.join(dir, 'events.jsonl'), '{broken\n');
    const both = await osusume(
      ['load', '--posts', 'new.jsonl', '--interactions', 'events.jsonl', '--replace'],
      dir,
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('Nothing was loaded: events.jsonl holds no valid interactions');
    expect((await osusume(['batch', '--list'], dir)).stdout).toBe('acme\t12 posts\n');
  });
});

describe('batch', () => {
  it('--skipped FILE it cannot write stops it before any tenant runs', async () => {
    const dir = await loaded('batch-skipped');
    const r = await osusume(['batch', '--skipped', `${dir}/nonexist/d/s.jsonl`], dir);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `osusume batch: Cannot write the --skipped file: the folder ${dir}/nonexist/d does not exist. Pass --skipped a file in a folder you can write to (nothing was changed).\n`,
    );
    expect(await runsJson(dir)).toBe('');
  });

  it('--tenant that is not a tenant of the warehouse stops it before anything runs or alerts', async () => {
    const dir = await loaded('batch-tenant');
    const r = await osusume(['batch', '--tenant', 'acme', '--tenant', 'nope'], dir);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `osusume batch: "nope" is not a tenant of the DuckDB warehouse ${dir}/.osusume/warehouse.duckdb: check the spelling against its tenants (osusume batch --list); nothing was run.\n`,
    );
    expect(await runsJson(dir)).toBe('');
    const w = await DuckDbWarehouse.open(path.join(dir, '.osusume/warehouse.duckdb'));
    expect(await w.listRunRecords({ limit: 10 })).toEqual([]);
    await w.close();
  });

  it('an experiments file with an error stops it before any tenant runs, fails or alerts', async () => {
    const dir = await loaded('batch-experiments');
    writeFileSync(
      path.join(dir, 'experiments.yaml'),
      'experiments:\n  - id: e\n    surface: footer\n    variants: [{ name: a, algorithm: lexcal }]\n',
    );
    const r = await osusume(['batch'], dir);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(
      /^osusume batch: \S*experiments\.yaml is invalid:\n {2}- experiments\[0\] \("e"\)\.variants\[0\] \("a"\)\.algorithm: .*\nFix these entries; an API already running keeps serving the file it read before\.\n$/,
    );
    const w = await DuckDbWarehouse.open(path.join(dir, '.osusume/warehouse.duckdb'));
    expect(await w.listRunRecords({ limit: 10 })).toEqual([]);
    await w.close();
  });

  it('names a warehouse file that does not exist instead of creating an empty one', async () => {
    const dir = mkdtempSync(path.join(work, 'batch-nowarehouse-'));
    for (const args of [['batch'], ['batch', '--list']]) {
      const r = await osusume(args, dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `osusume batch: No tenants in the DuckDB warehouse ${dir}/.osusume/warehouse.duckdb (no such file): load posts first (osusume load --posts FILE), or point the configuration (osusume.config.yaml, OSUSUME_CONFIG) at the right warehouse.\n`,
      );
    }
    expect(existsSync(path.join(dir, '.osusume'))).toBe(false);
  });

  it('--list marks a tenant whose id is not valid as never run', async () => {
    const dir = await loaded('batch-list-invalid');
    writeFileSync(
      path.join(dir, 'bad.jsonl'),
      post(1).replace('"tenantId":"acme"', '"tenantId":"bad tenant"') + '\n',
    );
    expect((await osusume(['load', '--posts', 'bad.jsonl'], dir)).code).toBe(0);
    // It was listed as "bad tenant\t1 post", and `batch --tenant 'bad tenant'` was refused.
    expect(await osusume(['batch', '--list'], dir)).toEqual({
      code: 0,
      stdout:
        'acme\t12 posts\n"bad tenant"\t1 post\tnever run: not a valid tenant id (1-128 printable characters without spaces); fix it in the warehouse\n',
      stderr: '',
    });
  });

  it('--list into a pipe closed early (| head) ends quietly, not with a stack trace', async () => {
    const dir = await loaded('batch-list-pipe');
    const child = spawn(process.execPath, [BIN, 'batch', '--list'], {
      cwd: dir,
      env: { ...process.env, OSUSUME_CONFIG: undefined, OSUSUME_CONFIG_YAML: undefined },
    });
    // The reader is gone before the first line: that write fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('--list over a warehouse without tenants says so and exits 1, as over a missing one', async () => {
    const dir = mkdtempSync(path.join(work, 'batch-empty-'));
    const file = path.join(dir, '.osusume/warehouse.duckdb');
    await (await DuckDbWarehouse.open(file)).close();
    const r = await osusume(['batch', '--list'], dir);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `osusume batch: No tenants in the DuckDB warehouse ${file}: load posts first (osusume load --posts FILE), or point the configuration (osusume.config.yaml, OSUSUME_CONFIG) at the right warehouse.\n`,
    );
  });
});

describe('validate', () => {
  it('names an experiments file that does not exist, or is a folder, and says what to pass', async () => {
    const missing = await osusume(['validate', 'nope.yaml'], work);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe(
      'osusume validate: Cannot read the experiments file: nope.yaml does not exist. Pass the path of an experiments file (YAML), or set experimentsFile in the configuration (osusume.config.yaml).\n',
    );
    const folder = await osusume(['validate', tmpdir()], work);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toBe(
      `osusume validate: Cannot read the experiments file: ${tmpdir()} is a folder. Pass the path of an experiments file (YAML), or set experimentsFile in the configuration (osusume.config.yaml).\n`,
    );
  });

  it('--write-schema FILE is an error, not FILE ignored', async () => {
    const schema = readFileSync(path.join(ROOT, 'experiments.schema.json'), 'utf8');
    const r = await osusume(['validate', '--write-schema', 'mine.json'], work);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      "osusume validate: --write-schema writes the repository's experiments.schema.json and osusume.config.schema.json and takes no FILE: run it without mine.json, or validate mine.json without --write-schema.\n",
    );
    expect(existsSync(path.join(work, 'mine.json'))).toBe(false);
    expect(readFileSync(path.join(ROOT, 'experiments.schema.json'), 'utf8')).toBe(schema);
  });
});

describe('runs, rollback and start-test', () => {
  it('name a store or warehouse that does not exist instead of creating an empty one', async () => {
    const dir = mkdtempSync(path.join(work, 'runs-'));
    const store = await osusume(['runs'], dir, {
      OSUSUME_CONFIG_YAML: `store: {kind: lmdb, path: ${dir}/nonexistent/dir/x.lmdb}`,
    });
    expect(store).toMatchObject({ code: 1, stdout: '' });
    expect(store.stderr).toBe(
      `osusume runs: No tenants in the DuckDB warehouse ${dir}/.osusume/warehouse.duckdb (no such file): load posts first (osusume load --posts FILE), or point the configuration (osusume.config.yaml, OSUSUME_CONFIG) at the right warehouse. No store at ${dir}/nonexistent/dir/x.lmdb: the batch creates it (osusume batch), or point the configuration (osusume.config.yaml, OSUSUME_CONFIG) at the right store.\n`,
    );
    writeFileSync(path.join(dir, 'posts.jsonl'), `${post(1)}\n`);
    expect((await osusume(['load', '--posts', 'posts.jsonl'], dir)).code).toBe(0);
    const noStore = await osusume(['runs'], dir);
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toBe(
      `osusume runs: No store at ${dir}/.osusume/store.lmdb: the batch creates it (osusume batch), or point the configuration (osusume.config.yaml, OSUSUME_CONFIG) at the right store.\n`,
    );
    const startTest = await osusume(['start-test', '--tenant', 't1'], dir);
    expect(startTest.stderr).toMatch(
      /^osusume start-test: No store at .*store\.lmdb: the batch creates it/,
    );
    const rollback = await osusume(['rollback', '--tenant', 't1'], dir);
    expect(rollback).toMatchObject({ code: 1, stdout: '' });
    expect(rollback.stderr).toMatch(
      /^osusume rollback: No store at .*store\.lmdb: the batch creates it/,
    );
    expect(existsSync(path.join(dir, 'nonexistent'))).toBe(false);
    expect(existsSync(path.join(dir, '.osusume/store.lmdb'))).toBe(false);
  });
});
