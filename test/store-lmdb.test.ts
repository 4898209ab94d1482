import { spawnSync } from 'node:child_process';
import { truncateSync } from 'node:fs';
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

describe('LMDB store file', () => {
  it('a truncated file is named on open, not read until the process dies of SIGBUS', async () => {
    const file = `${tmp.dir}/truncated.lmdb`;
    const writer = new LmdbStore(file);
    const lists = Array.from({ length: 500 }, (_, i) => ({
      postId: `p${i}`,
      items: [{ postId: 'q', score: 0.5 }],
    }));
    await writer.writeLists('acme', 'v1', 'fielded', lists);
    await writer.close();
    // Past the meta pages, and within them (the process died on open then).
    for (const size of [8192, 4096]) {
      truncateSync(file, size);
      expect(() => new LmdbStore(file)).toThrow(
        new RegExp(
          `^The LMDB store ${file} is truncated \\(${size} bytes; its pages reach \\d+\\): restore it`,
        ),
      );
    }
  });
});

describe('LMDB shared record structures', () => {
  it('a reader opened before another process wrote new shapes still decodes them (the API and the batch)', async () => {
    const file = `${tmp.dir}/shared.lmdb`;
    const reader = new LmdbStore(file);
    try {
      expect(await reader.getActive('acme')).toBeNull();
      const items = [{ postId: 'b', score: 0.5 }];
      const batch = `
        import { LmdbStore } from ${JSON.stringify(new URL('../core/store/lmdb.ts', import.meta.url).pathname)};
        const store = new LmdbStore(${JSON.stringify(file)});
        await store.writeLists('acme', 'v1', 'fielded', [{ postId: 'a', items: ${JSON.stringify(items)} }]);
        await store.activate('acme', { version: 'v1', activatedAt: '2026-01-01T00:00:00Z', algorithms: ['fielded'], lists: 1 }, 2);
        await store.close();`;
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', batch],
        {
          encoding: 'utf8',
        },
      );
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      // lmdb-js reads from one snapshot until the event loop turns; the API's requests each
      // start on a new turn.
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(await reader.getList('acme', 'fielded', 'a')).toEqual({ version: 'v1', items });
      expect((await reader.getActive('acme'))?.algorithms).toEqual(['fielded']);
    } finally {
      await reader.close();
    }
  });
});

describe('LMDB lists as the API reads them', () => {
  it('keep each score as JSON text too, exactly as JSON.stringify writes it, and the contract reads return { postId, score }', async () => {
    const scores = [0.1 + 0.2, 0, 1e21, 1e-7, 5e-324, 1 - 1 / 3, Number.NaN, Infinity, -Infinity];
    const items = scores.map((score, i) => ({ postId: `p${i}`, score }));
    const file = `${tmp.dir}/scores.lmdb`;
    const scored = new LmdbStore(file);
    try {
      await scored.writeLists('t', 'v1', 'embedding', [{ postId: 'a', items }]);
      await scored.writePopular('t', 'v1', items);
      for (const read of [
        scored.getListAtNow('t', 'v1', 'embedding', 'a'),
        scored.getPopularAtNow('t', 'v1'),
      ])
        expect(read).toEqual(
          items.map((item) => ({ ...item, scoreJson: JSON.stringify(item.score) })),
        );
      expect(await scored.getListAt('t', 'v1', 'embedding', 'a')).toEqual(items);
      expect(await scored.getPopularAt('t', 'v1')).toEqual(items);
    } finally {
      await scored.close();
    }
  });
});
