import { describe, expect, it } from 'vitest';
import { normaliseRows } from '../activities/embedder.js';
import { allNearestNeighbours, ivfListCount } from '../activities/knn.js';
import { buildRelatedLists } from '../activities/neighbours.js';
import { contentHash, type SnapshotPost } from '../core/posts.js';
import { normalArray } from '../core/random.js';

/** Unit vectors around `clusters` random centres. */
function clustered(
  rows: number,
  dim: number,
  clusters: number,
  spread: number,
  seed: number,
): Float32Array {
  const centres = normalArray(clusters * dim, 1, seed);
  const v = normalArray(rows * dim, spread, seed + 1);
  for (let r = 0; r < rows; r++) {
    const c = (r * 7919) % clusters;
    for (let d = 0; d < dim; d++) v[r * dim + d]! += centres[c * dim + d]!;
  }
  return normaliseRows(v, dim);
}

/** Brute-force reference: top-k row ids by inner product. */
function bruteForce(v: Float32Array, dim: number, row: number, k: number): number[] {
  const rows = v.length / dim;
  const scores: [number, number][] = [];
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += v[row * dim + d]! * v[r * dim + d]!;
    scores.push([s, r]);
  }
  return scores
    .sort((a, b) => b[0] - a[0])
    .slice(0, k)
    .map(([, r]) => r);
}

function recall(truth: Int32Array, found: Int32Array, k: number): number {
  let hits = 0;
  for (let off = 0; off < truth.length; off += k) {
    const expected = new Set(truth.subarray(off, off + k));
    for (const l of found.subarray(off, off + k)) if (expected.has(l)) hits += 1;
  }
  return hits / truth.length;
}

describe('faiss neighbours', () => {
  it('exact search equals a brute-force reference', async () => {
    const dim = 24;
    const v = clustered(600, dim, 12, 0.4, 3);
    const knn = await allNearestNeighbours(v, dim, {
      k: 10,
      exactMaxRows: 10_000,
      nprobe: 1,
      queryBatch: 128,
    });
    expect(knn.mode).toBe('exact');
    for (const row of [0, 17, 333, 599]) {
      expect([...knn.labels.subarray(row * 10, row * 10 + 10)]).toEqual(
        bruteForce(v, dim, row, 10),
      );
    }
  });

  it('lets the event loop turn between query batches (heartbeats go on during a long search)', async () => {
    const dim = 8;
    const v = clustered(600, dim, 6, 0.4, 5);
    let turned = 0;
    let batches = 0;
    await allNearestNeighbours(
      v,
      dim,
      { k: 5, exactMaxRows: 10_000, nprobe: 1, queryBatch: 100 },
      () => {
        batches += 1;
        // An immediate queued during batch i has run by batch i + 1 only if the search yielded.
        if (batches > 1) expect(turned).toBe(batches - 1);
        setImmediate(() => (turned += 1));
      },
    );
    expect(batches).toBe(6);
  });

  it('IVF reaches recall@10 >= 0.95 against exact on 50k clustered vectors, and nprobe matters', async () => {
    const dim = 64;
    const rows = 50_000;
    const v = clustered(rows, dim, 500, 0.35, 11);
    const exact = await allNearestNeighbours(v, dim, { k: 10, exactMaxRows: rows, nprobe: 1 });
    const ivf = await allNearestNeighbours(v, dim, { k: 10, exactMaxRows: 1_000, nprobe: 24 });
    expect(ivf.mode).toBe('ivf');
    expect(ivf.nlist).toBe(ivfListCount(rows));
    const good = recall(exact.labels, ivf.labels, 10);
    expect(good).toBeGreaterThanOrEqual(0.95);
    const onlyOneList = await allNearestNeighbours(v, dim, {
      k: 10,
      exactMaxRows: 1_000,
      nprobe: 1,
    });
    expect(recall(exact.labels, onlyOneList.labels, 10)).toBeLessThan(good);
  }, 240_000);
});

describe('related lists', () => {
  const post = (postId: string, text: string, createdAt: string): SnapshotPost => ({
    postId,
    title: '',
    text,
    contentHash: contentHash(text),
    createdAt,
    updatedAt: createdAt,
  });

  it('never lists the post itself or a copy of it, and shows one copy of a duplicated text', () => {
    const posts = [
      post('a', 'alpha', '2024-01-01'),
      post('a-copy', 'alpha', '2024-02-01'),
      post('b', 'beta', '2024-01-02'),
      post('c', 'gamma', '2024-01-03'),
      post('c-copy', 'gamma', '2024-01-01'),
    ];
    const keys = [contentHash('alpha'), contentHash('beta'), contentHash('gamma')];
    // Neighbours between distinct texts as faiss returns them: itself first.
    const knn = {
      k: 3,
      labels: Int32Array.from([0, 1, 2, 1, 2, 0, 2, 0, 1]),
      scores: Float32Array.from([1, 0.9, 0.5, 1, 0.8, 0.9, 1, 0.5, 0.8]),
    };
    const lists = Object.fromEntries(
      buildRelatedLists(posts, keys, knn, 5).map((l) => [l.postId, l.items.map((i) => i.postId)]),
    );
    expect(lists).toEqual({
      a: ['b', 'c-copy'],
      'a-copy': ['b', 'c-copy'],
      b: ['c-copy', 'a'],
      c: ['a', 'b'],
      'c-copy': ['a', 'b'],
    });
  });
});
