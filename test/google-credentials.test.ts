import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { FirestoreStore } from '../core/store/firestore.js';
import { GoogleCredentials } from '../core/google-credentials.js';
import type { RecommendationStore } from '../core/store/index.js';
import { runOsusume } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';

/**
 * A Firestore store or a BigQuery warehouse with no Google credentials (no
 * GOOGLE_APPLICATION_CREDENTIALS, no gcloud application-default login in HOME, no emulator, no
 * metadata server): the command stops with one line saying how to provide them, not google-gax's
 * uncaught stack trace or a network error.
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
  // A runner on Google Cloud has a metadata server, which would give its credentials: not asked.
  METADATA_SERVER_DETECTION: 'none',
};
const onFirestore = 'store: { kind: firestore, projectId: osusume-test, collection: osusume }';
const onBigQuery =
  'warehouse: { kind: bigquery, projectId: osusume-test, dataset: community, location: asia-northeast1 }';
const batchOnBigQuery =
  'osusume batch: BigQuery (project osusume-test) needs Google credentials and found none: run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file.\n';
const message =
  'Firestore (project osusume-test) needs Google credentials and found none: run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file; for the Firestore emulator, set FIRESTORE_EMULATOR_HOST.';

it('a command on Firestore without Google credentials says how to provide them, in one line, having changed nothing', async () => {
  writeFileSync(
    path.join(tmp.dir, 'posts.jsonl'),
    `${JSON.stringify({ tenantId: 'acme', postId: 'p1', title: 'disk quota', body: 'How?' })}\n`,
  );
  const cwd = tmp.dir;
  expect((await runOsusume(['load', '--posts', 'posts.jsonl'], { cwd })).code).toBe(0);

  const env = { ...noCredentials, OSUSUME_CONFIG_YAML: onFirestore };
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
  const env = { ...noCredentials, OSUSUME_CONFIG_YAML: onBigQuery };
  for (const args of [['batch', '--list'], ['batch']]) {
    const run = await runOsusume(args, { cwd: tmp.dir, env });
    expect(run, args.join(' ')).toMatchObject({ code: 1, stdout: '', stderr: batchOnBigQuery });
  }
  expect(existsSync(path.join(tmp.dir, '.osusume/artifacts'))).toBe(false);
});

/**
 * A metadata server on localhost for GCE_METADATA_HOST, answering every request with `headers`:
 * gcp-metadata takes an answer for Google's when it carries `metadata-flavor: Google`.
 */
function metadataServer(headers: OutgoingHttpHeaders): { host: string } {
  const server = createServer((_req, res) => res.writeHead(200, headers).end('{}'));
  const address = { host: '' };
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  return address;
}

describe('on Google Cloud', () => {
  const google = metadataServer({ 'metadata-flavor': 'Google' });

  it('a command without other credentials says how to provide them: the metadata server is not asked, nor its credentials taken where Google Cloud is detected', async () => {
    // K_SERVICE (Cloud Run) stands for what a runner's VM is detected by, its BIOS or MAC address.
    for (const where of [{}, { K_SERVICE: 'osusume-api' }]) {
      const env = {
        ...noCredentials,
        ...where,
        GCE_METADATA_HOST: google.host,
        OSUSUME_CONFIG_YAML: onBigQuery,
      };
      const run = await runOsusume(['batch', '--list'], { cwd: tmp.dir, env });
      expect(run, JSON.stringify(where)).toMatchObject({
        code: 1,
        stdout: '',
        stderr: batchOnBigQuery,
      });
    }
  });

  it('on Cloud Run, without METADATA_SERVER_DETECTION, the metadata server’s credentials are found', async () => {
    // In a process of its own: gcp-metadata keeps what it detected for the process.
    const look = `
      import { GoogleCredentials } from ${JSON.stringify(new URL('../core/google-credentials.ts', import.meta.url).pathname)};
      await new GoogleCredentials('Firestore', 'osusume-test').require();`;
    const env = {
      ...process.env,
      ...noCredentials,
      METADATA_SERVER_DETECTION: undefined,
      K_SERVICE: 'osusume-api',
      GCE_METADATA_HOST: google.host,
    };
    const child = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', look],
      { env },
    );
    expect(child.stderr).toBe('');
  });
});

describe('FirestoreStore without Google credentials', () => {
  const notGoogle = metadataServer({});
  beforeEach(() => {
    for (const [name, value] of Object.entries(noCredentials)) vi.stubEnv(name, value);
  });
  afterEach(() => vi.unstubAllEnvs());

  it('rejects every call with that message: none reaches google-gax, which would crash the process', async () => {
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
    try {
      for (const [name, call] of Object.entries(calls)) {
        const failure = await call().then(
          () => new Error(`${name} succeeded`),
          (error: unknown) => error,
        );
        expect(failure, name).toBeInstanceOf(ConfigError);
        expect((failure as Error).message, name).toBe(message);
      }
      // A failure is not kept: the next call looks again (and now finds a key file it cannot read).
      vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', path.join(tmp.dir, 'missing-key.json'));
      await expect(store.getActive('acme')).rejects.toThrow(
        /needs Google credentials and could not load them \(.*missing-key\.json/,
      );
    } finally {
      await store.close();
    }
  });

  it("a look whose metadata-server probe fails emits no warning, even two at once, and leaves Node's warnings as they were", async () => {
    // gcp-metadata warns on a probe failing as no error it knows (off Google Cloud, an
    // AggregateError; here, an answer that is not Google's). On a Google Cloud VM the client
    // takes the VM's credentials without a probe: nothing to warn about there.
    vi.stubEnv('METADATA_SERVER_DETECTION', 'ping-only');
    vi.stubEnv('GCE_METADATA_HOST', notGoogle.host);
    const warnings: string[] = [];
    const warned = (warning: Error) => warnings.push(warning.name);
    process.on('warning', warned);
    const emitWarning = process.emitWarning;
    try {
      // The batch's store and warehouse look at once.
      await Promise.allSettled([
        new GoogleCredentials('Firestore', 'a').require(),
        new GoogleCredentials('BigQuery', 'b').require(),
      ]);
      // Warnings are emitted on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
      expect(process.emitWarning).toBe(emitWarning);
    } finally {
      process.off('warning', warned);
    }
  });
});
