import { createRequire } from 'node:module';
import { setImmediate } from 'node:timers/promises';
import type * as Faiss from 'faiss-node';
import { ConfigError } from '../core/errors.js';

// faiss-node is CommonJS with a native addon; load it once, lazily, with a clear error.
const require = createRequire(import.meta.url);
let faissModule: typeof Faiss | undefined;
function faiss(): typeof Faiss {
  if (!faissModule) {
    try {
      faissModule = require('faiss-node') as typeof Faiss;
    } catch (error) {
      throw new ConfigError(
        `faiss-node does not load (${(error as Error).message}). Run 'npm run setup' on this machine.`,
        { cause: error },
      );
    }
  }
  return faissModule;
}

/**
 * k-nearest neighbours by inner product (cosine for normalised vectors) of every row against all
 * rows, with faiss: exact (flat index, BLAS) up to `exactMaxRows`, IVF above it.
 */
export interface KnnOptions {
  k: number;
  exactMaxRows: number;
  nprobe: number;
  /** Queries per faiss call: bounds memory and gives a progress point per batch. */
  queryBatch?: number;
  seed?: number;
}

export interface KnnResult {
  /** Row-major [rows, k]; -1 where fewer than k neighbours exist. */
  labels: Int32Array;
  scores: Float32Array;
  k: number;
  mode: 'exact' | 'ivf';
  nlist?: number;
}

/** About 4 sqrt(n) lists, and never fewer than 39 training points per list (faiss's minimum). */
export function ivfListCount(rows: number): number {
  return Math.max(1, Math.min(65_536, Math.round(4 * Math.sqrt(rows)), Math.floor(rows / 39)));
}

function toArray(m: Float32Array, from: number, to: number, dim: number): number[] {
  return Array.from(m.subarray(from * dim, to * dim));
}

/**
 * faiss-node does not expose nprobe. An IVF index serialises it at a fixed offset (fourcc,
 * d:i32, ntotal:i64, 2 x i64, is_trained:u8, metric:i32, nlist:u64, nprobe:u64), so it is set
 * by rewriting that field and reading the index back. The nlist field is checked first.
 */
function withNprobe(index: Faiss.Index, nlist: number, nprobe: number): Faiss.Index {
  const buf = index.toBuffer();
  const NLIST_AT = 4 + 4 + 8 + 8 + 8 + 1 + 4;
  if (buf.toString('latin1', 0, 4) !== 'IwFl' || buf.readBigUInt64LE(NLIST_AT) !== BigInt(nlist)) {
    throw new ConfigError(
      "Unexpected IVF serialisation layout: this faiss-node version cannot set nprobe. Install the version package-lock.json pins ('npm ci').",
    );
  }
  buf.writeBigUInt64LE(BigInt(Math.min(nprobe, nlist)), NLIST_AT + 8);
  return faiss().Index.fromBuffer(buf);
}

function sample(rows: number, count: number, seed: number): number[] {
  // Evenly spaced rows with a seeded offset: deterministic, and spread over the whole set.
  const step = rows / count;
  const offset = (seed % 997) / 997;
  return Array.from({ length: count }, (_, i) =>
    Math.min(rows - 1, Math.floor((i + offset) * step)),
  );
}

function buildIndex(
  vectors: Float32Array,
  rows: number,
  dim: number,
  options: KnnOptions,
): { index: Faiss.Index; mode: KnnResult['mode']; nlist?: number } {
  const f = faiss();
  if (rows <= options.exactMaxRows) {
    const index = new f.IndexFlatIP(dim);
    for (let s = 0; s < rows; s += 8192)
      index.add(toArray(vectors, s, Math.min(rows, s + 8192), dim));
    return { index: index as unknown as Faiss.Index, mode: 'exact' };
  }
  const nlist = ivfListCount(rows);
  const trainRows = Math.min(rows, nlist * 64);
  const train: number[] = [];
  for (const r of sample(rows, trainRows, options.seed ?? 1))
    train.push(...vectors.subarray(r * dim, (r + 1) * dim));
  let index = f.Index.fromFactory(dim, `IVF${nlist},Flat`, f.MetricType.METRIC_INNER_PRODUCT);
  index.train(train);
  index = withNprobe(index, nlist, options.nprobe);
  for (let s = 0; s < rows; s += 8192)
    index.add(toArray(vectors, s, Math.min(rows, s + 8192), dim));
  return { index, mode: 'ivf', nlist };
}

export async function allNearestNeighbours(
  vectors: Float32Array,
  dim: number,
  options: KnnOptions,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<KnnResult> {
  const rows = vectors.length / dim;
  const k = Math.min(options.k, rows);
  const { index, mode, nlist } = buildIndex(vectors, rows, dim, options);
  const labels = new Int32Array(rows * k).fill(-1);
  const scores = new Float32Array(rows * k);
  const batch = options.queryBatch ?? 2048;
  for (let s = 0; s < rows; s += batch) {
    const e = Math.min(rows, s + batch);
    const result = index.search(toArray(vectors, s, e, dim), k);
    labels.set(result.labels, s * k);
    scores.set(result.distances, s * k);
    onProgress(e, rows);
    // faiss searches synchronously: let timers run between batches, so that a Temporal step
    // keeps heartbeating (and a test runner keeps talking to its worker) through a long search.
    await setImmediate();
  }
  return { labels, scores, k, mode, nlist };
}
