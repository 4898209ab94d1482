import { readJsonLines } from '../core/artifacts.js';
import type { SnapshotPost } from '../core/posts.js';
import { characterNgrams, lexicalTerms } from '../core/text.js';
import { TfidfModel, type SparseVector } from '../core/tfidf.js';
import { saveLists, type StepContext } from './context.js';
import type { KnnResult } from './knn.js';
import { buildRelatedLists } from './neighbours.js';

/** TF-IDF vectors of texts, fitted on those texts. */
export function tfidf(texts: string[]): SparseVector[] {
  const docs = texts.map(lexicalTerms);
  const model = TfidfModel.fit(docs);
  return docs.map((d) => model.vectorize(d));
}

/** One kind of match: each query vector against every document vector, its cosine times weight. */
export interface MatchChannel {
  queries: SparseVector[];
  docs: SparseVector[];
  weight: number;
}

/**
 * Top-k of the weighted sum of several cosines between all rows, by accumulating over one
 * inverted index per channel. Row itself included.
 */
export function weightedNeighbours(
  channels: MatchChannel[],
  k: number,
): Pick<KnnResult, 'labels' | 'scores' | 'k'> {
  const rows = channels[0]?.queries.length ?? 0;
  const indexes = channels.map((channel) => {
    const postings = new Map<number, { row: number; w: number }[]>();
    channel.docs.forEach((v, row) =>
      v.ids.forEach((id, j) => {
        let list = postings.get(id);
        if (!list) postings.set(id, (list = []));
        list.push({ row, w: v.weights[j]! * channel.weight });
      }),
    );
    return postings;
  });
  const kk = Math.min(k, rows);
  const labels = new Int32Array(rows * kk).fill(-1);
  const scores = new Float32Array(rows * kk);
  const acc = new Float64Array(rows);
  const touched: number[] = [];
  for (let row = 0; row < rows; row++) {
    channels.forEach((channel, c) => {
      const v = channel.queries[row]!;
      v.ids.forEach((id, j) => {
        for (const p of indexes[c]!.get(id) ?? []) {
          if (acc[p.row] === 0) touched.push(p.row);
          acc[p.row] = acc[p.row]! + v.weights[j]! * p.w;
        }
      });
    });
    const best = touched.sort((a, b) => acc[b]! - acc[a]! || a - b).slice(0, kk);
    best.forEach((r, i) => {
      labels[row * kk + i] = r;
      scores[row * kk + i] = acc[r]!;
    });
    for (const r of touched) acc[r] = 0;
    touched.length = 0;
  }
  return { labels, scores, k: kk };
}

/** Exact cosine top-k between all vectors. Row itself included. */
export function sparseNeighbours(
  vectors: SparseVector[],
  k: number,
): Pick<KnnResult, 'labels' | 'scores' | 'k'> {
  return weightedNeighbours([{ queries: vectors, docs: vectors, weight: 1 }], k);
}

/** A post's text split into its two fields (the title starts the text). */
export interface FieldedText {
  title: string;
  text: string;
}

/**
 * Title-aware lexical similarity: the full-text cosine, plus the titles' cosine, plus each title
 * against the other post's body (one post naming the other), plus the titles' character trigrams.
 * The weights are round numbers fixed once for every tenant (EVALUATION.md shows their effect).
 */
export function fieldedNeighbours(posts: FieldedText[], k: number) {
  // A space separates title and body in the text, so its terms are exactly theirs: tokenise once.
  const titleTerms = posts.map((p) => lexicalTerms(p.title));
  const bodyTerms = posts.map((p) => lexicalTerms(p.text.slice(p.title.length)));
  const full = titleTerms.map((terms, i) => [...terms, ...bodyTerms[i]!]);
  const words = TfidfModel.fit(full);
  const text = full.map((terms) => words.vectorize(terms));
  const title = titleTerms.map((terms) => words.vectorize(terms));
  const body = bodyTerms.map((terms) => words.vectorize(terms));
  const grams = posts.map((p) => characterNgrams(p.title));
  const gramModel = TfidfModel.fit(grams);
  const titleGrams = grams.map((g) => gramModel.vectorize(g));
  return weightedNeighbours(
    [
      { queries: text, docs: text, weight: 1 },
      { queries: title, docs: title, weight: 0.5 },
      { queries: title, docs: body, weight: 1 },
      { queries: body, docs: title, weight: 1 },
      { queries: titleGrams, docs: titleGrams, weight: 0.5 },
    ],
    k,
  );
}

export interface LexicalInput {
  tenantId: string;
  runId: string;
  snapshotUri: string;
}

type RankTexts = (texts: FieldedText[], k: number) => Pick<KnnResult, 'labels' | 'scores' | 'k'>;

/** Lists from a ranking of the snapshot's texts, each distinct text ranked once (exact copies share it). */
async function textLists(
  ctx: StepContext,
  input: LexicalInput,
  algorithm: string,
  rank: RankTexts,
): Promise<{ listsUri: string; lists: number }> {
  const posts = await readJsonLines<SnapshotPost>(ctx.artifacts, input.snapshotUri);
  const unique = [...new Map(posts.map((p) => [p.contentHash, { title: p.title, text: p.text }]))];
  const knn = rank(
    unique.map(([, fields]) => fields),
    ctx.config.neighbours.k + 1,
  );
  const lists = buildRelatedLists(
    posts,
    unique.map(([hash]) => hash),
    knn,
    ctx.config.neighbours.k,
  );
  return saveLists(ctx, input, algorithm, lists);
}

/** Lexical item-to-item lists (TF-IDF cosine): the baseline every other algorithm is judged against. */
export function computeLexical(ctx: StepContext, input: LexicalInput) {
  return textLists(ctx, input, 'lexical', (texts, k) =>
    sparseNeighbours(tfidf(texts.map((t) => t.text)), k),
  );
}

/** Title-aware lexical lists (fieldedNeighbours). */
export function computeFielded(ctx: StepContext, input: LexicalInput) {
  return textLists(ctx, input, 'fielded', fieldedNeighbours);
}
