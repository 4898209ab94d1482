/**
 * osusume bench store (npm run bench:store) — list writes/s (20 items per list, one version) into LMDB and into the
 * Firestore emulator (BulkWriter, throttling off), in one run; then the API's read path, one list
 * at a time: getList (active pointer, then the list: two round trips) against getListAt with the
 * pointer cached as the API does (one); and getListAt through the API's list cache (a tenth of
 * the posts) when posts are requested with Zipf(1) popularity, a common model of page views. The
 * emulator is a single-process Java stand-in: its figures bound the client side, not production
 * Firestore.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListCache } from '../api/list-cache.js';
import { FirestoreStore } from '../core/store/firestore.js';
import { LmdbStore } from '../core/store/lmdb.js';
import type { RecommendationStore, RelatedList } from '../core/store/types.js';
import { emulatorAvailable, startFirestoreEmulator } from '../scripts/firestore-emulator.js';
import { benchEnv, KNOBS } from './env.js';
import { onInterrupt } from '../scripts/interrupt.js';

/** A progress line on stderr (stdout keeps the figures). */
function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

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

const READS = 1_000;

/** Mean ms per read, one read at a time (what one API request waits for). */
async function readMs(read: (postId: string) => Promise<unknown>, posts: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < READS; i++) await read(`post-${(i * 7919) % posts}`);
  return (performance.now() - start) / READS;
}

/** Post ids drawn with Zipf(1) popularity, from a fixed seed (the same sequence every run). */
function zipfPosts(posts: number, count: number): string[] {
  const cdf: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= posts; rank++) cdf.push((total += 1 / rank));
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  return Array.from({ length: count }, () => {
    const target = random() * total;
    let [lo, hi] = [0, posts - 1];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return `post-${(lo * 7919) % posts}`;
  });
}

/** Mean ms per read of getListAt over a Zipf sequence, without and with the API's list cache. */
async function popularityReads(store: RecommendationStore, version: string, posts: number) {
  const sequence = zipfPosts(posts, 2 * READS);
  const read = (p: string) => store.getListAt('bench', version, 'embedding', p);
  let start = performance.now();
  for (const p of sequence) await read(p);
  const uncached = (performance.now() - start) / sequence.length;
  const cache = new ListCache(Math.round(posts / 10));
  let misses = 0;
  start = performance.now();
  for (const p of sequence)
    await cache.read(['bench', version, 'embedding', p], () => {
      misses += 1;
      return read(p);
    });
  const cached = (performance.now() - start) / sequence.length;
  return {
    zipfUncachedMs: +uncached.toFixed(4),
    zipfCachedMs: +cached.toFixed(4),
    cacheHitRate: +(1 - misses / sequence.length).toFixed(3),
    cacheSpeedup: +(uncached / cached).toFixed(2),
  };
}

async function readPaths(store: RecommendationStore, posts: number) {
  const active = (await store.getActive('bench'))!;
  // Warm both paths (connections, caches) before timing either.
  await readMs((p) => store.getList('bench', 'embedding', p), posts);
  const pointerThenList = await readMs((p) => store.getList('bench', 'embedding', p), posts);
  const cachedPointer = await readMs(
    (p) => store.getListAt('bench', active.version, 'embedding', p),
    posts,
  );
  return {
    getListMs: +pointerThenList.toFixed(4),
    getListAtMs: +cachedPointer.toFixed(4),
    speedup: +(pointerThenList / cachedPointer).toFixed(2),
    ...(await popularityReads(store, active.version, posts)),
  };
}

export async function run(): Promise<void> {
  const { lists: listCount } = benchEnv(KNOBS.store);
  const data = lists(listCount);
  const dir = mkdtempSync(path.join(tmpdir(), 'osusume-bench-store-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const forgetDir = onInterrupt(removeDir);
  const lmdb = new LmdbStore(path.join(dir, 'store.lmdb'));
  progress(`LMDB: writing ${listCount} lists, then ${READS} reads per read path`);
  const lmdbRate = await writesPerSecond(lmdb, data);
  const lmdbReads = await readPaths(lmdb, listCount);
  await lmdb.close();
  removeDir();
  forgetDir();
  console.log(`LMDB: ${lmdbRate.toFixed(0)} lists/s; reads ${JSON.stringify(lmdbReads)}`);

  let firestoreRate: number | null = null;
  let firestoreReads: Awaited<ReturnType<typeof readPaths>> | null = null;
  if (emulatorAvailable()) {
    progress('Firestore emulator: starting (gcloud, up to a minute)');
    const emulator = await startFirestoreEmulator('osusume-bench');
    const forgetEmulator = onInterrupt(() => emulator.stop());
    progress(`Firestore emulator at ${emulator.host}: writing, then reading`);
    const firestore = new FirestoreStore({
      projectId: emulator.projectId,
      databaseId: '(default)',
      collection: 'osusume',
    });
    const written = Math.min(listCount, 10_000);
    firestoreRate = await writesPerSecond(firestore, data.slice(0, written));
    firestoreReads = await readPaths(firestore, written);
    await firestore.close();
    await emulator.stop();
    forgetEmulator();
    console.log(
      `Firestore emulator: ${firestoreRate.toFixed(0)} lists/s; reads ${JSON.stringify(firestoreReads)}`,
    );
  } else {
    console.log('Firestore emulator: not installed, skipped');
  }
  console.log(
    JSON.stringify({
      bench: 'store',
      lists: listCount,
      lmdbListsPerSecond: Math.round(lmdbRate),
      firestoreEmulatorListsPerSecond: firestoreRate && Math.round(firestoreRate),
      emulatorToLmdb: firestoreRate && +(firestoreRate / lmdbRate).toFixed(4),
      lmdbReads,
      firestoreEmulatorReads: firestoreReads,
    }),
  );
}
