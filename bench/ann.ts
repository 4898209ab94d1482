/**
 * osusume bench ann (npm run bench:ann) — all-against-all top-10 over 100k x 384 clustered unit vectors (BENCH_ROWS): exact (faiss
 * flat index, BLAS) and approximate (IVF), through the pipeline's neighbour code. Reports exact
 * GFLOP/s (2 n^2 d / seconds; the BLAS ceiling on 2 cores is ~65) and IVF recall@10 and speed-up.
 */
import { normaliseRows } from '../activities/embedder.js';
import { allNearestNeighbours } from '../activities/knn.js';
import { normalArray } from '../core/random.js';
import { benchEnv, KNOBS } from './env.js';

const DIM = 384;
const K = 10;

function clustered(rows: number, dim: number): Float32Array {
  const clusters = Math.round(rows / 100);
  const centres = normalArray(clusters * dim, 1, 1);
  // Overlapping clusters (noise as large as the spread of centres): neighbours cross cluster lines.
  const v = normalArray(rows * dim, 1.0, 2);
  for (let r = 0; r < rows; r++) {
    const c = (r * 7919) % clusters;
    for (let d = 0; d < dim; d++) v[r * dim + d]! += centres[c * dim + d]!;
  }
  return normaliseRows(v, dim);
}

export async function run(): Promise<void> {
  const { rows, nprobes } = benchEnv(KNOBS.ann);
  const v = clustered(rows, DIM);
  const progress = (label: string) => (done: number, total: number) => {
    if (done === total || done % 20_480 === 0)
      process.stderr.write(`  ${label} ${done}/${total}\n`);
  };
  let start = performance.now();
  const exact = await allNearestNeighbours(
    v,
    DIM,
    { k: K + 1, exactMaxRows: rows, nprobe: 1, queryBatch: 4096 },
    progress('exact'),
  );
  const exactSeconds = (performance.now() - start) / 1000;
  const exactGflops = (2 * rows * rows * DIM) / exactSeconds / 1e9;
  console.log(
    `${rows} x ${DIM}, top-${K}: exact ${exactSeconds.toFixed(1)} s (${exactGflops.toFixed(1)} GFLOP/s)`,
  );
  const ivf = [];
  for (const nprobe of nprobes) {
    start = performance.now();
    const found = await allNearestNeighbours(
      v,
      DIM,
      { k: K + 1, exactMaxRows: 0, nprobe, queryBatch: 4096 },
      progress(`ivf nprobe ${nprobe}`),
    );
    const seconds = (performance.now() - start) / 1000;
    let hits = 0;
    for (let r = 0; r < rows; r++) {
      const truth = new Set(exact.labels.subarray(r * (K + 1), (r + 1) * (K + 1)));
      truth.delete(r);
      for (const l of found.labels.subarray(r * (K + 1), (r + 1) * (K + 1)))
        if (l !== r && truth.has(l)) hits += 1;
    }
    const recall = hits / (rows * K);
    console.log(
      `IVF nlist ${found.nlist}, nprobe ${nprobe}: ${seconds.toFixed(1)} s, recall@${K} ${recall.toFixed(4)}, ${(exactSeconds / seconds).toFixed(2)}x the exact speed`,
    );
    ivf.push({
      nprobe,
      nlist: found.nlist,
      seconds: +seconds.toFixed(2),
      speedup: +(exactSeconds / seconds).toFixed(2),
      recallAt10: +recall.toFixed(4),
    });
  }
  console.log(
    JSON.stringify({
      bench: 'ann',
      rows,
      dim: DIM,
      k: K,
      exactSeconds: +exactSeconds.toFixed(2),
      exactGflops: +exactGflops.toFixed(1),
      ivf,
    }),
  );
}
