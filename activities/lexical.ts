import { readJsonLines } from '../core/artifacts.js';
import type { Interaction, SnapshotPost } from '../core/posts.js';
import type { RelatedList } from '../core/store/types.js';
import { blendLists } from './coengagement.js';
import { readValidInteractions } from './popular.js';
import { characterNgrams, lexicalTerms } from '../core/text.js';
import { TfidfModel, type SparseVector } from '../core/tfidf.js';
import { saveLists, type StepContext } from './context.js';
import type { KnnResult } from './knn.js';
import { buildRelatedLists, groupByContent } from './neighbours.js';

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

/** Title cosine from which two titles count as the same (a reply's subject, a repeated heading). */
const SAME_TITLE = 0.8;
/** Share of repeated titles at which the title channels get their full weight. */
const FULL_TITLE_WEIGHT_SHARE = 0.3;

/**
 * Share of posts whose title is (nearly) the same as another post's title: a label-free
 * statistic of the tenant's own posts. High in a mailing list (replies keep the subject), near
 * zero in a manual (every page has its own title).
 */
export function repeatedTitleShare(titles: SparseVector[]): number {
  if (titles.length < 2) return 0;
  const knn = sparseNeighbours(titles, 2);
  let repeated = 0;
  for (let row = 0; row < titles.length; row++) {
    for (let j = 0; j < knn.k; j++) {
      const label = knn.labels[row * knn.k + j]!;
      if (label >= 0 && label !== row && knn.scores[row * knn.k + j]! >= SAME_TITLE) {
        repeated += 1;
        break;
      }
    }
  }
  return repeated / titles.length;
}

/**
 * How much of a title a text contains: query weights idf / |title|^2 (the title's distinct terms),
 * document weights idf for each distinct term present. Their product sums to the share of the
 * title's squared idf mass found in the text: 1 when the text names the whole title, whatever
 * the text's length (a cosine would dilute it in a long page).
 */
export function titleContainment(model: TfidfModel, titles: string[][], texts: string[][]) {
  const idfOf = (terms: string[]) => {
    const { ids } = model.weights([...new Set(terms)]);
    return { ids, idf: Float64Array.from(ids, (id) => model.idf[id]!) };
  };
  const queries = titles.map((t) => {
    const { ids, idf } = idfOf(t);
    const mass = idf.reduce((sum, w) => sum + w * w, 0) || 1;
    return { ids, weights: Float32Array.from(idf, (w) => w / mass) };
  });
  const docs = texts.map((t) => {
    const { ids, idf } = idfOf(t);
    return { ids, weights: Float32Array.from(idf) };
  });
  return { queries, docs };
}

/**
 * Title-aware lexical similarity: the full-text cosine; plus how much of each post's title the
 * other's body contains (one post naming the other: a manual's link, a man page's SEE ALSO);
 * plus, in tenants whose titles repeat (threads), the titles' cosine and character trigrams.
 * Where titles do not repeat those two channels saturate on short generic titles and cost up to
 * 15 % (EVALUATION.md), so their weight follows the tenant's repeated-title share. The weights
 * are round numbers, the same for every tenant; they were chosen by the worst ratio to the
 * lexical baseline over every evaluation set (EVALUATION.md).
 */
export function fieldedNeighbours(posts: FieldedText[], k: number) {
  // A space separates title and body in the text, so its terms are exactly theirs: tokenise once.
  const titleTerms = posts.map((p) => lexicalTerms(p.title));
  const bodyTerms = posts.map((p) => lexicalTerms(p.text.slice(p.title.length)));
  const full = titleTerms.map((terms, i) => [...terms, ...bodyTerms[i]!]);
  const words = TfidfModel.fit(full);
  const text = full.map((terms) => words.vectorize(terms));
  const named = titleContainment(words, titleTerms, bodyTerms);
  const channels: MatchChannel[] = [
    { queries: text, docs: text, weight: 1 },
    { queries: named.queries, docs: named.docs, weight: 0.1 },
    { queries: named.docs, docs: named.queries, weight: 0.1 },
  ];
  // Titles compared on every term they have (a term in one title only still tells them apart).
  const titleModel = TfidfModel.fit(titleTerms, 1);
  const titleShare = repeatedTitleShare(titleTerms.map((terms) => titleModel.vectorize(terms)));
  const titleWeight = 0.5 * Math.min(1, titleShare / FULL_TITLE_WEIGHT_SHARE);
  if (titleWeight > 0) {
    const title = titleTerms.map((terms) => words.vectorize(terms));
    const grams = posts.map((p) => characterNgrams(p.title));
    const gramModel = TfidfModel.fit(grams);
    const titleGrams = grams.map((g) => gramModel.vectorize(g));
    channels.push(
      { queries: title, docs: title, weight: titleWeight },
      { queries: titleGrams, docs: titleGrams, weight: titleWeight },
    );
  }
  return weightedNeighbours(channels, k);
}

export interface LexicalInput {
  tenantId: string;
  runId: string;
  snapshotUri: string;
  /** fielded: the interactions the popularity step kept, to blend with (blendLists). */
  interactionsUri?: string;
}

type RankTexts = (texts: FieldedText[], k: number) => Pick<KnnResult, 'labels' | 'scores' | 'k'>;

/** Lists from a ranking of the snapshot's texts, each distinct text ranked once (exact copies share it). */
async function textLists(
  ctx: StepContext,
  input: LexicalInput,
  algorithm: string,
  rank: RankTexts,
  adjust: (lists: RelatedList[], posts: SnapshotPost[]) => RelatedList[] = (lists) => lists,
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
  return saveLists(ctx, input, algorithm, adjust(lists, posts));
}

/** Lexical item-to-item lists (TF-IDF cosine): the baseline every other algorithm is judged against. */
export function computeLexical(ctx: StepContext, input: LexicalInput) {
  return textLists(ctx, input, 'lexical', (texts, k) =>
    sparseNeighbours(tfidf(texts.map((t) => t.text)), k),
  );
}

/**
 * The default lists: title-aware lexical (fieldedNeighbours), blended with co-engagement where
 * the tenant has interactions (blendLists: by each post's evidence).
 */
export async function computeFielded(ctx: StepContext, input: LexicalInput) {
  const interactions = input.interactionsUri
    ? await readJsonLines<Interaction>(ctx.artifacts, input.interactionsUri)
    : (await readValidInteractions(ctx, input.tenantId)).interactions;
  return textLists(ctx, input, 'fielded', fieldedNeighbours, (lists, posts) => {
    const groups = groupByContent(posts);
    const first = new Map(posts.map((p) => [p.postId, groups.get(p.contentHash)![0]!.postId]));
    return blendLists(lists, interactions, ctx.config.neighbours.k, {
      representative: (id) => first.get(id) ?? id,
    });
  });
}
