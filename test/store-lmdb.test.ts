import { afterAll, beforeAll } from 'vitest';
import { LmdbStore } from '../core/store/lmdb.js';
import { storeContract } from './helpers/store-contract.js';
import { tempDir } from './helpers/fixtures.js';

const tmp = tempDir();
let store: LmdbStore;
let generation = 0;

beforeAll(() => {
  store = new LmdbStore(`${tmp.dir}/store-0.lmdb`);
});
afterAll(async () => {
  await store.close();
  tmp.cleanup();
});

storeContract(
  'LMDB',
  () => store,
  async () => {
    await store.close();
    generation += 1;
    store = new LmdbStore(`${tmp.dir}/store-${generation}.lmdb`);
  },
);
