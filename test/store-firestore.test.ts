import { afterAll, beforeAll, describe, it } from 'vitest';
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
}
