/**
 * npm run bench:store — list writes/s (20 items per list, one version) into LMDB and into the
 * Firestore emulator (BulkWriter, throttling off), in one run. The emulator is a single-process
 * Java stand-in: its figure bounds the client side, not production Firestore.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FirestoreStore } from '../core/store/firestore.js';
import { LmdbStore } from '../core/store/lmdb.js';
import type { RecommendationStore, RelatedList } from '../core/store/types.js';
import { emulatorAvailable, startFirestoreEmulator } from '../test/helpers/firestore-emulator.js';

const LISTS = Number(process.env.BENCH_LISTS ?? 20_000);

function lists(n: number): RelatedList[] {
  return Array.from({ length: n }, (_, i) => ({
    postId: `post-${i}`,
    items: Array.from({ length: 20 }, (_, j) => ({
      postId: `post-${(i + j + 1) % n}`,
      score: 1 - j / 40,
    })),
  }));
}

async function writesPerSecond(store: RecommendationStore, data: RelatedList[]): Promise<number> {
  const start = performance.now();
  for (let s = 0; s < data.length; s += 2_000)
    await store.writeLists('bench', 'v1', 'embedding', data.slice(s, s + 2_000));
  await store.activate(
    'bench',
    {
      version: 'v1',
      activatedAt: new Date().toISOString(),
      algorithms: ['embedding'],
      lists: data.length,
    },
    2,
  );
  return data.length / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const data = lists(LISTS);
  const dir = mkdtempSync(path.join(tmpdir(), 'osusume-bench-store-'));
  const lmdb = new LmdbStore(path.join(dir, 'store.lmdb'));
  const lmdbRate = await writesPerSecond(lmdb, data);
  await lmdb.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`LMDB: ${lmdbRate.toFixed(0)} lists/s`);

  let firestoreRate: number | null = null;
  if (emulatorAvailable()) {
    const emulator = await startFirestoreEmulator('osusume-bench');
    const firestore = new FirestoreStore({
      projectId: emulator.projectId,
      databaseId: '(default)',
      collection: 'osusume',
    });
    firestoreRate = await writesPerSecond(firestore, data.slice(0, Math.min(LISTS, 10_000)));
    await firestore.close();
    await emulator.stop();
    console.log(`Firestore emulator: ${firestoreRate.toFixed(0)} lists/s`);
  } else {
    console.log('Firestore emulator: not installed, skipped');
  }
  console.log(
    JSON.stringify({
      bench: 'store',
      lists: LISTS,
      lmdbListsPerSecond: Math.round(lmdbRate),
      firestoreEmulatorListsPerSecond: firestoreRate && Math.round(firestoreRate),
      emulatorToLmdb: firestoreRate && +(firestoreRate / lmdbRate).toFixed(4),
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
