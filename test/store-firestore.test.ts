import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError } from '../core/errors.js';
import { encodeIdForFirestore } from '../core/ids.js';
import { FirestoreStore } from '../core/store/firestore.js';
import {
  firestoreTestMode,
  startFirestoreEmulator,
  type Emulator,
} from './helpers/firestore-emulator.js';
import { storeContract } from './helpers/store-contract.js';

const mode = firestoreTestMode();

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
