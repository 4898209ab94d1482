import { readJsonLines } from '../core/artifacts.js';
import { distinctTexts, type SnapshotPost } from '../core/posts.js';
import { lexicalTerms } from '../core/text.js';
import { saveLists, type StepContext } from './context.js';
import type { KnnResult } from './knn.js';
import { buildRelatedLists } from './neighbours.js';

/** A sparse vector: term ids and weights, L2-normalised. */
export interface SparseVector {
  ids: Int32Array;
  weights: Float32Array;
}

/** TF-IDF vectors (sublinear tf, smoothed idf), one per text; terms seen once in the corpus are dropped. */
export function tfidf(texts: string[]): SparseVector[] {
  const termIds = new Map<string, number>();
  const df: number[] = [];
  const counts = texts.map((t) => {
    const c = new Map<number, number>();
    for (const term of lexicalTerms(t)) {
      let id = termIds.get(term);
      if (id === undefined) {
        id = termIds.size;
        termIds.set(term, id);
        df.push(0);
      }
      c.set(id, (c.get(id) ?? 0) + 1);
    }
    for (const id of c.keys()) df[id]! += 1;
    return c;
  });
  const n = texts.length;
  return counts.map((c) => {
    const entries = [...c.entries()].filter(([id]) => df[id]! > 1);
    const weights = entries.map(
      ([id, tf]) => (1 + Math.log(tf)) * (Math.log((n + 1) / (df[id]! + 1)) + 1),
    );
    const norm = Math.sqrt(weights.reduce((s, w) => s + w * w, 0)) || 1;
    return {
      ids: Int32Array.from(entries.map(([id]) => id)),
      weights: Float32Array.from(weights.map((w) => w / norm)),
    };
  });
}

/** Exact cosine top-k between all vectors, by accumulating over an inverted index. Row itself included. */
export function sparseNeighbours(
  vectors: SparseVector[],
  k: number,
): Pick<KnnResult, 'labels' | 'scores' | 'k'> {
  const postings = new Map<number, { row: number; w: number }[]>();
  vectors.forEach((v, row) =>
    v.ids.forEach((id, j) => {
      let list = postings.get(id);
      if (!list) postings.set(id, (list = []));
      list.push({ row, w: v.weights[j]! });
    }),
  );
  const rows = vectors.length;
  const kk = Math.min(k, rows);
  const labels = new Int32Array(rows * kk).fill(-1);
  const scores = new Float32Array(rows * kk);
  const acc = new Float64Array(rows);
  const touched: number[] = [];
  vectors.forEach((v, row) => {
    v.ids.forEach((id, j) => {
      for (const p of postings.get(id)!) {
        if (acc[p.row] === 0) touched.push(p.row);
        acc[p.row] = acc[p.row]! + v.weights[j]! * p.w;
      }
    });
    const best = touched.sort((a, b) => acc[b]! - acc[a]! || a - b).slice(0, kk);
    best.forEach((r, i) => {
      labels[row * kk + i] = r;
      scores[row * kk + i] = acc[r]!;
    });
    for (const r of touched) acc[r] = 0;
    touched.length = 0;
  });
  return { labels, scores, k: kk };
}

export interface LexicalInput {
  tenantId: string;
  runId: string;
  snapshotUri: string;
}

/** Lexical item-to-item lists (TF-IDF cosine): the baseline every other algorithm is judged against. */
export async function computeLexical(
  ctx: StepContext,
  input: LexicalInput,
): Promise<{ listsUri: string; lists: number }> {
  const posts = await readJsonLines<SnapshotPost>(ctx.artifacts, input.snapshotUri);
  const unique = distinctTexts(posts);
  const knn = sparseNeighbours(tfidf(unique.map(([, text]) => text)), ctx.config.neighbours.k + 1);
  const lists = buildRelatedLists(
    posts,
    unique.map(([hash]) => hash),
    knn,
    ctx.config.neighbours.k,
  );
  return saveLists(ctx, input, 'lexical', lists);
}
