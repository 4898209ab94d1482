import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { FirestoreStore } from '../core/store/firestore.js';
import { GoogleCredentials } from '../core/google-credentials.js';
import type { RecommendationStore } from '../core/store/index.js';
import { runOsusume } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';

/**
 * A Firestore store or a BigQuery warehouse with no Google credentials (no
 * GOOGLE_APPLICATION_CREDENTIALS, no gcloud application-default login in HOME, no emulator): the
 * command stops with one line saying how to provide them, not google-gax's uncaught stack trace
 * or a network error. Off Google Cloud only: on a GCE VM the metadata server has credentials to
 * give.
 */
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const home = path.join(tmp.dir, 'home');
mkdirSync(home);
const noCredentials = {
  HOME: home,
  GOOGLE_APPLICATION_CREDENTIALS: undefined,
  CLOUDSDK_CONFIG: undefined,
  FIRESTORE_EMULATOR_HOST: undefined,
};
const message =
  'Firestore (project osusume-test) needs Google credentials and found none: run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file; for the Firestore emulator, set FIRESTORE_EMULATOR_HOST.';

it('a command on Firestore without Google credentials says how to provide them, in one line, having changed nothing', async () => {
  writeFileSync(
    path.join(tmp.dir, 'posts.jsonl'),
    `${JSON.stringify({ tenantId: 'acme', postId: 'p1', title: 'disk quota', body: 'How?' })}\n`,
  );
  const cwd = tmp.dir;
  expect((await runOsusume(['load', '--posts', 'posts.jsonl'], { cwd })).code).toBe(0);

  const env = {
    ...noCredentials,
    OSUSUME_CONFIG_YAML: 'store: { kind: firestore, projectId: osusume-test, collection: osusume }',
  };
  const runs = await runOsusume(['runs'], { cwd, env });
  expect(runs).toMatchObject({ code: 1, stdout: '' });
  expect(runs.stderr).toBe(`osusume runs: ${message}\n`);

  // validate judges the file, which is valid: the store's readiness is what it could not check.
  writeFileSync(
    path.join(cwd, 'experiments.yaml'),
    [
      'defaultAlgorithm: fielded',
      'experiments:',
      '  - id: sidebar',
      '    surface: sidebar',
      "    tenants: ['*']",
      '    type: interleaving',
      '    variants:',
      '      - { name: fielded, algorithm: fielded }',
      '      - { name: popular, algorithm: popular }',
      '',
    ].join('\n'),
  );
  const validate = await runOsusume(['validate'], { cwd, env });
  expect(validate.code).toBe(0);
  expect(validate.stdout + validate.stderr).toContain(
    `readiness not checked: the store did not answer: ${message}\n`,
  );

  // The batch stops before it writes anything: no run folder, no tenant list.
  const batch = await runOsusume(['batch'], { cwd, env });
  expect(batch).toMatchObject({ code: 1, stdout: '' });
  expect(batch.stderr).toBe(`osusume batch: ${message}\n`);
  expect(existsSync(path.join(cwd, '.osusume/artifacts'))).toBe(false);
});

it('a command on BigQuery without Google credentials says how to provide them, in one line', async () => {
  const env = {
    ...noCredentials,
    OSUSUME_CONFIG_YAML:
      'warehouse: { kind: bigquery, projectId: osusume-test, dataset: community, location: asia-northeast1 }',
  };
  const message =
    'osusume batch: BigQuery (project osusume-test) needs Google credentials and found none: run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file.\n';
  for (const args of [['batch', '--list'], ['batch']]) {
    const run = await runOsusume(args, { cwd: tmp.dir, env });
    expect(run, args.join(' ')).toMatchObject({ code: 1, stdout: '', stderr: message });
  }
  expect(existsSync(path.join(tmp.dir, '.osusume/artifacts'))).toBe(false);
});

describe('FirestoreStore without Google credentials', () => {
  beforeAll(() => {
    for (const [name, value] of Object.entries(noCredentials)) vi.stubEnv(name, value);
  });
  afterAll(() => vi.unstubAllEnvs());

  it('rejects every call with that message and no warning: none reaches google-gax, which would crash the process', async () => {
    const store = new FirestoreStore({
      projectId: 'osusume-test',
      databaseId: '(default)',
      collection: 'osusume',
    });
    const info = { version: 'v1', activatedAt: '2026-01-01T00:00:00Z', algorithms: [], lists: 0 };
    // Typed as every method of the interface: a method added there must be added here.
    const calls = {
      writeLists: () => store.writeLists('acme', 'v1', 'embedding', []),
      writePopular: () => store.writePopular('acme', 'v1', []),
      activate: () => store.activate('acme', info, 2),
      getActive: () => store.getActive('acme'),
      getList: () => store.getList('acme', 'embedding', 'p1'),
      getPopular: () => store.getPopular('acme'),
      getListAt: () => store.getListAt('acme', 'v1', 'embedding', 'p1'),
      getPopularAt: () => store.getPopularAt('acme', 'v1'),
      listVersions: () => store.listVersions('acme'),
      deleteVersion: () => store.deleteVersion('acme', 'v1'),
      setHidden: () => store.setHidden('acme', ['p1'], true),
      getHidden: () => store.getHidden('acme'),
      listTenants: () => store.listTenants(),
      purgeTenant: () => store.purgeTenant('acme'),
    } satisfies Record<Exclude<keyof RecommendationStore, 'now' | 'close'>, () => Promise<unknown>>;
    const warnings: string[] = [];
    const warned = (warning: Error) => warnings.push(warning.name);
    process.on('warning', warned);
    try {
      for (const [name, call] of Object.entries(calls)) {
        const failure = await call().then(
          () => new Error(`${name} succeeded`),
          (error: unknown) => error,
        );
        expect(failure, name).toBeInstanceOf(ConfigError);
        expect((failure as Error).message, name).toBe(message);
      }
      // Warnings are emitted on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
      // Two looks at once (the batch's store and warehouse) leave Node's warnings as they were.
      const emitWarning = process.emitWarning;
      await Promise.allSettled([
        new GoogleCredentials('Firestore', 'a').require(),
        new GoogleCredentials('BigQuery', 'b').require(),
      ]);
      expect(process.emitWarning).toBe(emitWarning);
      // A failure is not kept: the next call looks again (and now finds a key file it cannot read).
      vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', path.join(tmp.dir, 'missing-key.json'));
      await expect(store.getActive('acme')).rejects.toThrow(
        /needs Google credentials and could not load them \(.*missing-key\.json/,
      );
    } finally {
      process.off('warning', warned);
      await store.close();
    }
  });
});
