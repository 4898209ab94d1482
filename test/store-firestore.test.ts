import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BackendError, ConfigError } from '../core/errors.js';
import { encodeIdForFirestore } from '../core/ids.js';
import { freePort } from '../core/net.js';
import { FirestoreStore } from '../core/store/firestore.js';
import {
  firestoreTestMode,
  startFirestoreEmulator,
  type Emulator,
} from './helpers/firestore-emulator.js';
import { runOsusume } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';
import { storeContract } from './helpers/store-contract.js';

const mode = firestoreTestMode();

/** What a call says where FIRESTORE_EMULATOR_HOST is `host` and nothing listens there. */
function noEmulatorAt(host: string): string {
  return `Cannot reach the Firestore emulator at ${host} (FIRESTORE_EMULATOR_HOST): connection refused: nothing listens there. Start it there (gcloud emulators firestore start --host-port=${host}), or correct FIRESTORE_EMULATOR_HOST, or unset it to use Firestore itself (project osusume-test).`;
}

const storeOptions = { projectId: 'osusume-test', databaseId: '(default)', collection: 'osusume' };

/**
 * An emulator address where nothing listens (a closed port: no emulator needed): the client alone
 * retried it for about 45 s and then said only "14 UNAVAILABLE: No connection established".
 */
describe('FIRESTORE_EMULATOR_HOST where nothing listens', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  afterEach(() => vi.unstubAllEnvs());

  it('a store call fails with one message naming the address and what to do', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    vi.stubEnv('FIRESTORE_EMULATOR_HOST', host);
    const store = new FirestoreStore(storeOptions);
    try {
      const failure = await store.getActive('acme').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toBe(noEmulatorAt(host));
    } finally {
      await store.close();
    }
  });

  it('osusume batch stops with that message, in one line', async () => {
    const cwd = tmp.dir;
    writeFileSync(
      path.join(cwd, 'posts.jsonl'),
      `${JSON.stringify({ tenantId: 'acme', postId: 'p1', title: 'disk quota', body: 'How?' })}\n`,
    );
    expect((await runOsusume(['load', '--posts', 'posts.jsonl'], { cwd })).code).toBe(0);
    const host = `127.0.0.1:${await freePort()}`;
    const env = {
      FIRESTORE_EMULATOR_HOST: host,
      OSUSUME_CONFIG_YAML:
        'store: { kind: firestore, projectId: osusume-test, collection: osusume }',
    };
    const batch = await runOsusume(['batch'], { cwd, env });
    expect(batch).toMatchObject({ code: 1, stdout: '' });
    expect(batch.stderr).toBe(`osusume batch: ${noEmulatorAt(host)}\n`);
  });
});

if (mode === 'skip') {
  describe.skip('Firestore store (emulator not installed)', () => it('skipped'));
} else {
  let emulator: Emulator;
  let store: FirestoreStore;
  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
    store = new FirestoreStore({
      projectId: emulator.projectId,
      databaseId: '(default)',
      collection: 'osusume',
    });
  }, 90_000);
  afterAll(async () => {
    await store?.close();
    await emulator?.stop();
  });
  storeContract(
    'Firestore emulator',
    () => store,
    () => emulator.reset(),
  );

  describe('an emulator started after a call found nothing there', () => {
    afterEach(() => vi.unstubAllEnvs());

    it('answers the same store’s next call: the failure is not kept (a running API becomes ready)', async () => {
      const port = await freePort();
      const host = `127.0.0.1:${port}`;
      vi.stubEnv('FIRESTORE_EMULATOR_HOST', host);
      const store = new FirestoreStore({ ...storeOptions, projectId: emulator.projectId });
      let late: Emulator | undefined;
      try {
        await expect(store.getActive('acme')).rejects.toThrow(noEmulatorAt(host));
        late = await startFirestoreEmulator(emulator.projectId, port);
        expect(await store.getActive('acme')).toBeNull();
      } finally {
        await store.close();
        await late?.stop();
      }
    }, 90_000);
  });

  it('a command on the emulator prints no metadata-server warning where none is set up', async () => {
    const tmp = tempDir();
    try {
      const cwd = tmp.dir;
      writeFileSync(
        path.join(cwd, 'posts.jsonl'),
        `${JSON.stringify({ tenantId: 'acme', postId: 'p1', title: 'disk quota', body: 'How?', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' })}\n`,
      );
      expect((await runOsusume(['load', '--posts', 'posts.jsonl'], { cwd })).code).toBe(0);
      const env = {
        FIRESTORE_EMULATOR_HOST: emulator.host,
        // As on a laptop, where nobody sets it: the client looked for a metadata server.
        METADATA_SERVER_DETECTION: '',
        OSUSUME_CONFIG_YAML: `store: { kind: firestore, projectId: ${emulator.projectId}, collection: metadata-check }`,
      };
      const batch = await runOsusume(['batch'], { cwd, env });
      expect(batch.code).toBe(0);
      expect(batch.stderr).not.toMatch(/MetadataLookupWarning|trace-warnings/);
    } finally {
      tmp.cleanup();
    }
  }, 60_000);

  /**
   * A transaction that read the tenant document and stays open, as one whose client was killed
   * inside activate: the emulator aborts every other transaction on that document ("Transaction
   * lock timeout") until it ends. Released by calling the returned function.
   */
  async function holdTenantLock(tenantId: string): Promise<() => Promise<void>> {
    let locked!: () => void;
    let release!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const holder = store.db.runTransaction(
      async (tx) => {
        await tx.get(store.db.collection('osusume').doc(encodeIdForFirestore(tenantId)));
        locked();
        await released;
      },
      { maxAttempts: 1 },
    );
    await isLocked;
    return async () => {
      release();
      await holder;
    };
  }

  const info = { activatedAt: '2024-01-01T00:00:00Z', algorithms: ['fielded'], lists: 1 };

  describe('activate while another transaction holds the tenant document', () => {
    it('keeps retrying past the client’s own attempts (about 18 s) and activates once the lock is gone', async () => {
      await emulator.reset();
      await store.writePopular('locked', 'v1', [{ postId: 'p1', score: 1 }]);
      const release = await holdTenantLock('locked');
      const activation = store.activate('locked', { version: 'v1', ...info }, 2);
      // Past the client's five attempts: without activate's own retries this attempt had failed.
      await new Promise((resolve) => setTimeout(resolve, 25_000));
      await release();
      expect((await activation).version).toBe('v1');
      expect((await store.getActive('locked'))?.version).toBe('v1');
    }, 90_000);

    it('gives up after activateRetrySeconds with an error naming the tenant, the version and what to do; serving is unchanged', async () => {
      await emulator.reset();
      await store.writePopular('locked', 'v1', [{ postId: 'p1', score: 1 }]);
      await store.activate('locked', { version: 'v1', ...info }, 2);
      await store.writePopular('locked', 'v2', [{ postId: 'p1', score: 1 }]);
      const impatient = new FirestoreStore({
        projectId: emulator.projectId,
        databaseId: '(default)',
        collection: 'osusume',
        activateRetrySeconds: 1,
      });
      const release = await holdTenantLock('locked');
      try {
        const error = await impatient
          .activate('locked', { version: 'v2', ...info }, 2)
          .catch((e) => e);
        expect(error).toBeInstanceOf(BackendError);
        expect(error.message).toMatch(/version v2 of tenant locked: Firestore aborted/);
        expect(error.message).toContain('Transaction lock timeout');
        expect(error.message).toContain('--run-id v2');
      } finally {
        await release();
        await impatient.close();
      }
      expect((await store.getActive('locked'))?.version).toBe('v1');
    }, 90_000);
  });
}
