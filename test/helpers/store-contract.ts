import { beforeEach, describe, expect, it } from 'vitest';
import { BadDataError } from '../../core/errors.js';
import {
  collectGarbage,
  ImmutableVersionError,
  wasActivated,
  type RecommendationStore,
  type RelatedList,
} from '../../core/store/types.js';

/** The behaviour every store must have (DESIGN.md): run against LMDB and the Firestore emulator. */
export function storeContract(
  name: string,
  getStore: () => RecommendationStore,
  reset: () => Promise<void>,
): void {
  const lists = (version: string, n: number): RelatedList[] =>
    Array.from({ length: n }, (_, i) => ({
      postId: `p${i}`,
      items: [
        { postId: `q${i}`, score: 0.5 },
        { postId: version, score: 0.25 },
      ],
    }));
  const info = (version: string, n: number) => ({
    version,
    activatedAt: '2024-01-01T00:00:00Z',
    algorithms: ['embedding'],
    lists: n,
  });

  describe(`${name} store contract`, () => {
    beforeEach(reset);

    it('serves nothing before a version is activated', async () => {
      const store = getStore();
      await store.writeLists('t1', 'v1', 'embedding', lists('v1', 3));
      expect(await store.getActive('t1')).toBeNull();
      expect(await store.getList('t1', 'embedding', 'p0')).toBeNull();
      expect((await store.listVersions('t1')).map((v) => v.version)).toEqual(['v1']);
    });

    it('serves the active version, and a half-written newer version stays invisible', async () => {
      const store = getStore();
      await store.writeLists('t1', 'v1', 'embedding', lists('v1', 4));
      await store.writePopular('t1', 'v1', [{ postId: 'p1', score: 3 }]);
      await store.activate('t1', info('v1', 4), 2);
      // A run that crashed after writing part of v2: readers must still see all of v1.
      await store.writeLists('t1', 'v2', 'embedding', lists('v2', 2));
      for (let i = 0; i < 4; i++) {
        const served = await store.getList('t1', 'embedding', `p${i}`);
        expect(served?.version).toBe('v1');
        expect(served?.items.map((x) => x.postId)).toEqual([`q${i}`, 'v1']);
      }
      expect((await store.getPopular('t1'))?.items).toEqual([{ postId: 'p1', score: 3 }]);
      await store.activate('t1', info('v2', 2), 2);
      expect((await store.getList('t1', 'embedding', 'p0'))?.items[1]?.postId).toBe('v2');
      expect(await store.getList('t1', 'embedding', 'p3')).toBeNull();
      expect(await store.getPopular('t1')).toBeNull();
      // A given version stays readable after the pointer moved on (the API caches the pointer).
      expect((await store.getListAt('t1', 'v1', 'embedding', 'p3'))?.map((x) => x.postId)).toEqual([
        'q3',
        'v1',
      ]);
      expect(await store.getPopularAt('t1', 'v1')).toEqual([{ postId: 'p1', score: 3 }]);
      expect(await store.getListAt('t1', 'v2', 'embedding', 'p3')).toBeNull();
      expect(await store.getListAt('t1', 'v9', 'lexical', 'p0')).toBeNull();
    });

    it('keeps the active version and its predecessor, and collects replaced and abandoned ones only after their grace', async () => {
      const store = getStore();
      const grace = { supersededMs: 60_000, abandonedMs: 3_600_000 };
      const minutes = (m: number) => Date.now() + m * 60_000;
      const ids = async () => (await store.listVersions('t1')).map((v) => v.version);
      // v9 sorts above every later id (a clock that ran ahead, or another id format).
      for (const v of ['v9', 'v2', 'v3']) await store.writeLists('t1', v, 'embedding', lists(v, 2));
      await store.activate('t1', info('v9', 2), 2);
      await store.activate('t1', info('v3', 2), 2); // v2 was never activated (a failed run)
      const active = await store.getActive('t1');
      expect(active?.previous).toEqual(['v9']);
      // v2 may still be written by a run in progress until the abandoned grace has passed.
      expect(await collectGarbage(store, 't1', active!, grace, minutes(1))).toEqual([]);
      expect(await collectGarbage(store, 't1', active!, grace, minutes(61))).toEqual(['v2']);
      expect(await ids()).toEqual(['v3', 'v9']);
      await store.writeLists('t1', 'v4', 'embedding', lists('v4', 2));
      const next = await store.activate('t1', info('v4', 2), 2);
      // v9 left the pointer's history, but an API may hold a pointer to it for a while yet.
      expect(await collectGarbage(store, 't1', next, grace, Date.now())).toEqual([]);
      expect(await collectGarbage(store, 't1', next, grace, minutes(2))).toEqual(['v9']);
      expect(await ids()).toEqual(['v3', 'v4']);
      const times = await store.listVersions('t1');
      expect(times[0]).toMatchObject({ version: 'v3' });
      expect(times[0]!.supersededAt! >= times[0]!.activatedAt!).toBe(true);
      expect(times[1]!.supersededAt).toBeUndefined();
    });

    it('never changes an activated version, and refuses to activate one without data', async () => {
      const store = getStore();
      await store.writeLists('t1', 'v1', 'embedding', lists('v1', 2));
      await store.writePopular('t1', 'v1', [{ postId: 'p1', score: 1 }]);
      await store.activate('t1', info('v1', 2), 2);
      await expect(store.writeLists('t1', 'v1', 'embedding', lists('x', 3))).rejects.toThrow(
        ImmutableVersionError,
      );
      await expect(store.writePopular('t1', 'v1', [])).rejects.toThrow(/immutable/);
      await store.writeLists('t1', 'v2', 'embedding', lists('v2', 1));
      await store.activate('t1', info('v2', 1), 2);
      // Replaced, and still immutable.
      await expect(store.writeLists('t1', 'v1', 'embedding', lists('x', 1))).rejects.toThrow(
        /immutable/,
      );
      expect(await store.getListAt('t1', 'v1', 'embedding', 'p2')).toBeNull();
      expect(await store.getPopularAt('t1', 'v1')).toEqual([{ postId: 'p1', score: 1 }]);
      await expect(store.activate('t1', info('v7', 1), 2)).rejects.toThrow(/no data to activate/);
      expect((await store.getActive('t1'))?.version).toBe('v2');
    });

    it('refuses, in the transaction that writes the pointer, a version built on one no longer active, a rollback planned from one no longer active, and a replaced version unless rollback asks; a refusal changes nothing', async () => {
      const store = getStore();
      for (const v of ['v1', 'v2', 'v3']) await store.writeLists('t1', v, 'embedding', lists(v, 1));
      await store.activate('t1', info('v1', 1), 2);
      // v3's run decided to activate while v1 was active; v2 was activated since.
      await store.activate('t1', info('v2', 1), 2);
      const served = await store.getActive('t1');
      const versions = await store.listVersions('t1');
      const stale = await store
        .activate('t1', info('v3', 1), 2, { replaces: 'v1' })
        .catch((e) => e);
      expect(stale).toBeInstanceOf(BadDataError);
      expect(stale.message).toMatch(
        /^Version v3 of tenant "t1" was built on version v1, but v2 became active meanwhile: .*Run start-test again/,
      );
      // v1's own activate step run again (a Temporal retry, a Reset of its run).
      const replaced = await store.activate('t1', info('v1', 1), 2).catch((e) => e);
      expect(replaced).toBeInstanceOf(BadDataError);
      expect(replaced.message).toMatch(
        /^Version v1 of tenant "t1" was activated before and has been replaced by v2: .*osusume rollback --tenant t1 --to v1;/,
      );
      // A rollback planned from v1 (back to an older version) while v2 was activated.
      const rollback = await store
        .activate('t1', info('v3', 1), 2, { reactivate: true, replaces: 'v1' })
        .catch((e) => e);
      expect(rollback).toBeInstanceOf(BadDataError);
      expect(rollback.message).toBe(
        'Tenant "t1" was to roll back from v1 to v3, but v2 became active meanwhile: it is not rolled back, as that would undo v2 unseen. Run osusume rollback --tenant t1 again: it plans from the active version.',
      );
      expect(await store.getActive('t1')).toEqual(served);
      expect(await store.listVersions('t1')).toEqual(versions);
      // The active version's step retried goes ahead, and so do rollback and a version built on
      // the active one.
      expect(await store.activate('t1', info('v2', 1), 2, { replaces: 'v1' })).toMatchObject({
        version: 'v2',
        previous: ['v1'],
      });
      expect(
        await store.activate('t1', info('v1', 1), 2, { reactivate: true, replaces: 'v2' }),
      ).toMatchObject({
        version: 'v1',
        previous: ['v2'],
      });
      expect(await store.activate('t1', info('v3', 1), 2, { replaces: 'v1' })).toMatchObject({
        version: 'v3',
        previous: ['v1'],
      });
    });

    it('of two versions built on the same active one and activated at once, one is served and the other refused', async () => {
      const store = getStore();
      for (const v of ['v1', 'a', 'b']) await store.writeLists('t1', v, 'embedding', lists(v, 1));
      await store.activate('t1', info('v1', 1), 2);
      const outcomes = await Promise.allSettled(
        ['a', 'b'].map((v) => store.activate('t1', info(v, 1), 2, { replaces: 'v1' })),
      );
      const served = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.version] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
      expect(served).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(BadDataError);
      expect((refused[0] as Error).message).toMatch(
        new RegExp(`built on version v1, but ${served[0]} became active meanwhile`),
      );
      expect(await store.getActive('t1')).toMatchObject({ version: served[0], previous: ['v1'] });
      const loser = served[0] === 'a' ? 'b' : 'a';
      const marker = (await store.listVersions('t1')).find((v) => v.version === loser);
      expect(wasActivated(marker)).toBe(false);
    });

    it('keeps tenants apart, whatever characters their ids hold', async () => {
      const store = getStore();
      const odd = ['a/b', 'a', 'a.b', '__x__', '..', 'テナント', 'a%2Fb'];
      for (const t of odd) {
        await store.writeLists(t, 'v1', 'embedding', [
          { postId: 'x/y', items: [{ postId: t, score: 1 }] },
        ]);
        await store.activate(t, info('v1', 1), 2);
      }
      for (const t of odd)
        expect((await store.getList(t, 'embedding', 'x/y'))?.items[0]?.postId).toBe(t);
      expect((await store.listTenants()).sort()).toEqual([...odd].sort());
    });

    it('purges a tenant completely without touching others', async () => {
      const store = getStore();
      for (const t of ['t1', 't2']) {
        await store.writeLists(t, 'v1', 'embedding', lists('v1', 3));
        await store.activate(t, info('v1', 3), 2);
      }
      await store.purgeTenant('t1');
      expect(await store.getActive('t1')).toBeNull();
      expect(await store.getList('t1', 'embedding', 'p0')).toBeNull();
      expect(await store.listVersions('t1')).toEqual([]);
      expect(await store.listTenants()).toEqual(['t2']);
      expect((await store.getList('t2', 'embedding', 'p0'))?.version).toBe('v1');
    });

    it('hides and unhides posts across versions, and a purge forgets them', async () => {
      const store = getStore();
      await store.setHidden('t1', ['a/1', 'b', 'c'], true);
      await store.setHidden('t1', ['b'], false);
      await store.setHidden('t2', ['z'], true);
      expect((await store.getHidden('t1')).sort()).toEqual(['a/1', 'c']);
      await store.purgeTenant('t1');
      expect(await store.getHidden('t1')).toEqual([]);
      expect(await store.getHidden('t2')).toEqual(['z']);
    });

    it('rejects versions that are not plain run ids', async () => {
      await expect(getStore().writeLists('t1', '../x', 'embedding', [])).rejects.toThrow(
        /Invalid version/,
      );
    });
  });
}
