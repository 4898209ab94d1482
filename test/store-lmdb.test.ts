import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('LMDB shared record structures', () => {
  it('a reader opened before the batch wrote new shapes still decodes them (batch and API are two processes)', async () => {
    const file = `${tmp.dir}/shared.lmdb`;
    const reader = new LmdbStore(file);
    const writer = new LmdbStore(file);
    try {
      expect(await reader.getActive('acme')).toBeNull();
      const items = [{ postId: 'b', score: 0.5 }];
      await writer.writeLists('acme', 'v1', 'fielded', [{ postId: 'a', items }]);
      await writer.writePopular('acme', 'v1', items);
      await writer.activate(
        'acme',
        { version: 'v1', activatedAt: '2026-01-01T00:00:00Z', algorithms: ['fielded'], lists: 1 },
        2,
      );
      expect(await reader.getList('acme', 'fielded', 'a')).toEqual({ version: 'v1', items });
      expect((await reader.getActive('acme'))?.algorithms).toEqual(['fielded']);
    } finally {
      await writer.close();
      await reader.close();
    }
  });
});
