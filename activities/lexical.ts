import { readJsonLines } from '../core/artifacts.js';
import { BadDataError } from '../core/errors.js';
import { contentHash, type Interaction, type SnapshotPost } from '../core/posts.js';
import type { Config } from '../core/config.js';
import type { RelatedList } from '../core/store/types.js';
import { blendLists } from './coengagement.js';
import { readValidInteractions } from './popular.js';
import { characterNgrams, lexicalTerms } from '../core/text.js';
import { TfidfModel, type SparseVector } from '../core/tfidf.js';
import { lsaEmbeddings, trainLsa, trainLsaPaced, type LsaModel } from '../core/model/lsa.js';
import {
  loopSteps,
  mapSteps,
  runAtOnce,
  runPaced,
  type Pacing,
  type Steps,
} from '../core/pacing.js';
import { saveLists, type StepContext } from './context.js';
import type { KnnResult } from './knn.js';
import { buildRelatedLists, shownCopies } from './neighbours.js';
import { decodeVectors } from '../core/vectors.js';

/** TF-IDF vectors of documents' terms, fitted on those documents (stages `what: ...`). */
function* fittedVectorSteps(docs: string[][], what: string): Steps<SparseVector[]> {
  const model = yield* TfidfModel.fitSteps(docs, 2, `${what}: vocabulary`);
  return yield* mapSteps(docs, `${what}: vectors`, (d) => model.vectorize(d));
}

/** TF-IDF vectors of texts, fitted on those texts. */
export function tfidf(texts: string[]): SparseVector[] {
  return runAtOnce(tfidfSteps(texts));
}

/** tfidf as steps: one per text in each pass (tokenising, counting terms, vectorising). */
function* tfidfSteps(texts: string[]): Steps<SparseVector[]> {
  const terms = yield* mapSteps(texts, 'tokenise', lexicalTerms);
  return yield* fittedVectorSteps(terms, 'text');
}

/** One kind of match: each query vector against every document vector, its cosine times weight. */
export interface MatchChannel {
  queries: SparseVector[];
  docs: SparseVector[];
  weight: number;
}

/** Each row's top-k neighbours, row-major: what the rankings below compute. */
type Ranking = Pick<KnnResult, 'labels' | 'scores' | 'k'>;

/**
 * Top-k of the weighted sum of several cosines between all rows, by accumulating over one
 * inverted index per channel. Row itself included.
 */
export function weightedNeighbours(channels: MatchChannel[], k: number): Ranking {
  return runAtOnce(weightedNeighbourSteps(channels, k));
}

/**
 * weightedNeighbours as steps, one per row: its cost grows with the square of the rows (a minute
 * at 10,000 posts, BENCHMARKS.md), so the batch's steps pause between rows (runPaced).
 */
function* weightedNeighbourSteps(
  channels: MatchChannel[],
  k: number,
  stage = 'rank',
): Steps<Ranking> {
  const rows = channels[0]?.queries.length ?? 0;
  const indexes = yield* invertedIndexSteps(channels, rows, `${stage}: index`);
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
    const best = topRows(touched, acc, kk);
    best.forEach((r, i) => {
      labels[row * kk + i] = r;
      scores[row * kk + i] = acc[r]!;
    });
    for (const r of touched) acc[r] = 0;
    touched.length = 0;
    yield { stage, done: row + 1, total: rows };
  }
  return { labels, scores, k: kk };
}

/** A channel's index: each term id -> the rows whose document has it, weight x channel weight. */
type InvertedIndex = Map<number, { row: number; w: number }[]>;

/** Each channel's inverted index, a step per row (every channel's document of that row). */
function* invertedIndexSteps(
  channels: MatchChannel[],
  rows: number,
  stage: string,
): Steps<InvertedIndex[]> {
  const indexes = channels.map((): InvertedIndex => new Map());
  yield* loopSteps(rows, stage, (row) =>
    channels.forEach((channel, c) => {
      const v = channel.docs[row]!;
      v.ids.forEach((id, j) => {
        let list = indexes[c]!.get(id);
        if (!list) indexes[c]!.set(id, (list = []));
        list.push({ row, w: v.weights[j]! * channel.weight });
      });
    }),
  );
  return indexes;
}

/** The k rows of highest score (ties: lower row first), best first; a heap, as sorting every touched row dominated large tenants. */
function topRows(rows: number[], score: Float64Array, k: number): number[] {
  // Min-heap on (score, -row): its root is the worst row kept.
  const worse = (a: number, b: number) => score[a]! < score[b]! || (score[a] === score[b] && a > b);
  const heap: number[] = [];
  const down = (i: number) => {
    for (;;) {
      const [l, r] = [2 * i + 1, 2 * i + 2];
      let m = i;
      if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (const row of rows) {
    if (heap.length < k) {
      heap.push(row);
      for (let i = heap.length - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (!worse(heap[i]!, heap[parent]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    } else if (k > 0 && worse(heap[0]!, row)) {
      heap[0] = row;
      down(0);
    }
  }
  return heap.sort((a, b) => score[b]! - score[a]! || a - b);
}

/** Exact cosine top-k between all vectors. Row itself included. */
export function sparseNeighbours(vectors: SparseVector[], k: number): Ranking {
  return runAtOnce(sparseNeighbourSteps(vectors, k));
}

function sparseNeighbourSteps(vectors: SparseVector[], k: number, stage = 'rank'): Steps<Ranking> {
  return weightedNeighbourSteps([{ queries: vectors, docs: vectors, weight: 1 }], k, stage);
}

/** A post's text split into its two fields (the title starts the text). */
export interface FieldedText {
  title: string;
  text: string;
}

/**
 * Share of posts whose title is (nearly) the same as another post's title: a label-free
 * statistic of the tenant's own posts. High in a mailing list (replies keep the subject), near
 * zero in a manual (every page has its own title).
 */
export function repeatedTitleShare(titles: SparseVector[], sameTitle: number): number {
  return runAtOnce(repeatedTitleShareSteps(titles, sameTitle));
}

function* repeatedTitleShareSteps(titles: SparseVector[], sameTitle: number): Steps<number> {
  if (titles.length < 2) return 0;
  const knn = yield* sparseNeighbourSteps(titles, 2, 'titles');
  let repeated = 0;
  for (let row = 0; row < titles.length; row++) {
    for (let j = 0; j < knn.k; j++) {
      const label = knn.labels[row * knn.k + j]!;
      if (label >= 0 && label !== row && knn.scores[row * knn.k + j]! >= sameTitle) {
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
 * the text's length (a cosine would dilute it in a long page). With `information`, a term weighs
 * its idf less 1, what it says beyond a term found in every post: a title made of such terms names
 * nothing.
 */
export function titleContainment(
  model: TfidfModel,
  titles: string[][],
  texts: string[][],
  information = false,
): { queries: SparseVector[]; docs: SparseVector[] } {
  return runAtOnce(titleContainmentSteps(model, titles, texts, information));
}

function* titleContainmentSteps(
  model: TfidfModel,
  titles: string[][],
  texts: string[][],
  information: boolean,
  stage = 'containment',
): Steps<{ queries: SparseVector[]; docs: SparseVector[] }> {
  const idfOf = (terms: string[]) => {
    const { ids } = model.weights([...new Set(terms)]);
    return { ids, idf: Float64Array.from(ids, (id) => model.idf[id]! - (information ? 1 : 0)) };
  };
  const queries = yield* mapSteps(titles, `${stage}: titles`, (t) => {
    const { ids, idf } = idfOf(t);
    const mass = idf.reduce((sum, w) => sum + w * w, 0) || 1;
    return { ids, weights: Float32Array.from(idf, (w) => w / mass) };
  });
  const docs = yield* mapSteps(texts, `${stage}: texts`, (t) => {
    const { ids, idf } = idfOf(t);
    return { ids, weights: Float32Array.from(idf) };
  });
  return { queries, docs };
}

/** The weights of fieldedNeighbours (config `fielded`; defaults and their meaning in core/config.ts). */
export type FieldedWeights = Config['fielded'];

/** The first of a title's terms that the vocabulary knows: usually what the post is called (`sys`, `getent`). */
function leadingTerm(model: TfidfModel, title: string[]): string[] {
  const first = title.find((term) => model.weights([term]).ids.length > 0);
  return first === undefined ? [] : [first];
}

/**
 * Vectors for the `latent` rescoring: one L2-normalised row per text, in the texts' order (`terms`:
 * each text's terms, as fieldedNeighbours split them). By default the tenant's own LSA model; the
 * run's embeddings with latentVectors "embedding"; the evaluation sweep can give a pretrained
 * encoder's.
 */
export type LatentVectors = (
  texts: string[],
  terms: string[][],
) => { vectors: Float32Array; dim: number };

/** The vectors of an LSA model trained on the same texts. */
function lsaLatent(lsa: LsaModel): LatentVectors {
  return (_texts, terms) => ({ vectors: lsaEmbeddings(lsa, terms), dim: lsa.dim });
}

/** The default: the tenant's own LSA model, trained on the texts now. */
const lsaVectors: LatentVectors = (texts, terms) => lsaLatent(trainLsa(texts))(texts, terms);

/** One id per distinct title (its folded terms): two posts match only when their titles are the same. */
function* sameTitleSteps(titleTerms: string[][]): Steps<SparseVector[]> {
  const groups = new Map<string, number>();
  return yield* mapSteps(titleTerms, 'same titles', (terms) => {
    const key = terms.join(' ');
    if (!key) return { ids: new Int32Array(0), weights: new Float32Array(0) };
    if (!groups.has(key)) groups.set(key, groups.size);
    return { ids: Int32Array.of(groups.get(key)!), weights: Float32Array.of(1) };
  });
}

/**
 * Title-aware lexical similarity: the full-text cosine (title terms counted `titleRepeats` extra
 * times, idf to `idfPower`); plus how much of each post's title the other's body contains (one
 * post naming the other: a manual's link, a man page's SEE ALSO), whether either body holds the
 * other's short title as a phrase (`titlePhrase`, the sharper form of the same), and whether the
 * other's body names its leading title term; plus, in tenants whose titles repeat (threads), the
 * titles' cosine and character trigrams. Where titles do not repeat those two channels saturate on
 * short generic titles and cost up to 15 % (EVALUATION.md), so their weight follows the tenant's
 * repeated-title share, and (`exactTitles`) a partial title match fades with it while identical
 * titles keep their weight; containment (`containmentInformation`) weighs a title's terms by what
 * they say beyond a term found in every post. Three candidates, off by default (none beat the
 * default's worst ratio beyond noise, EVALUATION.md): the character trigrams of the names the two
 * titles list (`nameGrams`: families of functions and commands), the cosine of the posts' neighbour
 * lists (`sharedNeighbours`), and the cosine of their per-tenant LSA embeddings over the best
 * candidates (`latent`). The weights are the same for every tenant; they were chosen by the worst
 * ratio to the lexical baseline over every evaluation set (EVALUATION.md).
 */
export function fieldedNeighbours(
  posts: FieldedText[],
  k: number,
  weights: FieldedWeights,
  latentVectors?: LatentVectors,
): Ranking {
  return runAtOnce(fieldedNeighbourSteps(posts, k, weights, latentVectors));
}

/** Each post's title terms, body terms, and both (its text's terms), a step per post. */
function* fieldTermSteps(posts: FieldedText[]) {
  // A space separates title and body in the text, so its terms are exactly theirs: tokenise once.
  const terms = yield* mapSteps(posts, 'tokenise', (p) => {
    const title = lexicalTerms(p.title);
    const body = lexicalTerms(p.text.slice(p.title.length));
    return { title, body, full: [...title, ...body] };
  });
  return {
    titleTerms: terms.map((t) => t.title),
    bodyTerms: terms.map((t) => t.body),
    full: terms.map((t) => t.full),
  };
}

/**
 * fieldedNeighbours as steps: one per post in each pass over the posts (tokenising, fitting,
 * vectorising: seconds in all on a large tenant), one per row of each ranking it computes.
 */
function* fieldedNeighbourSteps(
  posts: FieldedText[],
  k: number,
  weights: FieldedWeights,
  latentVectors?: LatentVectors,
): Steps<Ranking> {
  const { titleTerms, bodyTerms, full } = yield* fieldTermSteps(posts);
  const words = yield* TfidfModel.fitSteps(full, 2, 'text: vocabulary');
  const text = yield* mapSteps(full, 'text: vectors', (terms, i) =>
    words.vectorize(
      [...terms, ...Array<string[]>(weights.titleRepeats).fill(titleTerms[i]!).flat()],
      weights.idfPower,
    ),
  );
  const information = weights.containmentInformation > 0;
  const named = yield* titleContainmentSteps(words, titleTerms, bodyTerms, information);
  const channels: MatchChannel[] = [
    { queries: text, docs: text, weight: 1 },
    { queries: named.queries, docs: named.docs, weight: weights.containment },
    { queries: named.docs, docs: named.queries, weight: weights.containment },
  ];
  if (weights.leadingTerm > 0) {
    const leading = yield* mapSteps(titleTerms, 'leading terms', (t) => leadingTerm(words, t));
    const lead = yield* titleContainmentSteps(words, leading, bodyTerms, false, 'leading term');
    channels.push(
      { queries: lead.queries, docs: lead.docs, weight: weights.leadingTerm },
      { queries: lead.docs, docs: lead.queries, weight: weights.leadingTerm },
    );
  }
  // Titles compared on every term they have (a term in one title only still tells them apart).
  const titleModel = yield* TfidfModel.fitSteps(titleTerms, 1, 'title: vocabulary');
  const titleVectors = yield* mapSteps(titleTerms, 'title: vectors', (t) =>
    titleModel.vectorize(t),
  );
  const titleShare = yield* repeatedTitleShareSteps(titleVectors, weights.sameTitle);
  const titleFraction = Math.min(1, titleShare / weights.fullTitleShare);
  // With exactTitles, partial matches fade as titles stop repeating; identical ones score as before.
  const partial = weights.exactTitles ? titleFraction : 1;
  const titleWeight = weights.titleChannels * titleFraction;
  if (titleWeight > 0) {
    const title = yield* mapSteps(titleTerms, 'title words', (t) => words.vectorize(t));
    const grams = yield* mapSteps(posts, 'title trigrams', (p) => characterNgrams(p.title));
    const titleGrams = yield* fittedVectorSteps(grams, 'title trigrams');
    channels.push(
      { queries: title, docs: title, weight: titleWeight * partial },
      { queries: titleGrams, docs: titleGrams, weight: titleWeight * partial },
    );
    if (partial < 1) {
      const same = yield* sameTitleSteps(titleTerms);
      channels.push({ queries: same, docs: same, weight: 2 * titleWeight * (1 - partial) });
    }
  }
  if (weights.nameGrams > 0) {
    const grams = yield* mapSteps(posts, 'names', (p) =>
      listedNames(p.title).flatMap((name) => characterNgrams(` ${name} `)),
    );
    const names = yield* fittedVectorSteps(grams, 'names');
    channels.push({ queries: names, docs: names, weight: weights.nameGrams });
  }
  if (weights.titlePhrase > 0) {
    const named = yield* phraseMentionSteps(posts);
    const self = posts.map((_, row) => ({ ids: Int32Array.of(row), weights: Float32Array.of(1) }));
    channels.push(
      { queries: named, docs: self, weight: weights.titlePhrase },
      { queries: self, docs: named, weight: weights.titlePhrase },
    );
  }
  if (weights.sharedNeighbours > 0)
    channels.push(
      yield* neighbourListChannelSteps(
        channels,
        weights.neighbourListLength,
        weights.sharedNeighbours,
      ),
    );
  if (weights.latent <= 0) return yield* weightedNeighbourSteps(channels, k);
  const pool = yield* weightedNeighbourSteps(channels, Math.max(k, LATENT_POOL), 'pool');
  const texts = posts.map((p) => p.text);
  const latent = (latentVectors ?? lsaVectors)(texts, full);
  return yield* rescorePoolSteps(pool, latent.vectors, latent.dim, weights.latent, k);
}

/**
 * The names a title lists, comma-separated, before its section or description, when it starts
 * with a name (`isalnum, isalpha, isascii(3) — character classification`: the functions a page
 * documents); a title without commas names at most its leading name.
 */
export function listedNames(title: string): string[] {
  if (!leadingName(title)) return [];
  const head = title.normalize('NFKC').split(/\(| — | - /, 1)[0]!;
  return head
    .split(',')
    .map((part) => leadingName(part))
    .filter((name): name is string => name !== undefined);
}

/**
 * The name a title starts with, if it starts with one: a first word in lower case, or a digit or
 * underscore (`getent(1) — get entries`, `json — JSON encoder`), as commands, functions and
 * modules are written; a heading's first word is capitalised (`Layers Dialog`, `The shell
 * prompt`) and a Japanese title starts with no Latin letter, so neither names anything.
 */
export function leadingName(title: string): string | undefined {
  return title
    .normalize('NFKC')
    .trim()
    .match(/^[\p{Ll}\p{N}_][\p{L}\p{N}_.]*/u)?.[0];
}

/** Text folded for phrase matching: NFKC, lower case, words separated by single spaces. */
function phraseText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_.]+/gu, ' ')
    .replace(/\.+(?= |$)/g, '')
    .replace(/ +/g, ' ')
    .trim();
}

const JAPANESE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/**
 * For each post, the posts whose short title (the name it starts with, else the whole title) its
 * body holds as a phrase, as a vector of those posts' rows (weight 1): a manual's link, a man
 * page naming a command. A title matches as whole words; a Japanese one anywhere, as Japanese
 * words are not spaced. One scan of each body: titles are looked up by their first word, or by
 * their first two characters for Japanese ones, so the cost grows with the text, not posts^2.
 */
export function phraseMentions(posts: FieldedText[]): SparseVector[] {
  return runAtOnce(phraseMentionSteps(posts));
}

/** phraseMentions as steps: one per title indexed, then one per body scanned. */
function* phraseMentionSteps(posts: FieldedText[]): Steps<SparseVector[]> {
  const byWord = new Map<string, { title: string; row: number }[]>();
  const byPair = new Map<string, { title: string; row: number }[]>();
  yield* loopSteps(posts.length, 'phrases: titles', (row) => {
    const p = posts[row]!;
    const title = phraseText(leadingName(p.title) ?? p.title);
    if (title.length < 2) return;
    const [index, key] = JAPANESE.test(title)
      ? [byPair, title.slice(0, 2)]
      : [byWord, title.split(' ', 1)[0]!];
    const list = index.get(key);
    if (list) list.push({ title, row });
    else index.set(key, [{ title, row }]);
  });
  return yield* mapSteps(posts, 'phrases: texts', (p, row) => {
    const body = ` ${phraseText(p.text.slice(p.title.length))} `;
    const named = new Set<number>();
    const match = (
      candidates: { title: string; row: number }[] | undefined,
      at: number,
      end = '',
    ) => {
      for (const c of candidates ?? [])
        if (c.row !== row && body.startsWith(c.title + end, at)) named.add(c.row);
    };
    // A title of words starts at a word and ends at one: compared with its closing space.
    for (let at = 1; at < body.length; at = body.indexOf(' ', at) + 1)
      match(byWord.get(body.slice(at, body.indexOf(' ', at))), at, ' ');
    if (byPair.size > 0)
      for (let at = 0; at + 1 < body.length; at++) match(byPair.get(body.slice(at, at + 2)), at);
    const rows = [...named].sort((a, b) => a - b);
    return { ids: Int32Array.from(rows), weights: new Float32Array(rows.length).fill(1) };
  });
}

/**
 * Candidates per post rescored with the latent cosine: bounds its cost to posts x 100 x the
 * model's dimensions, and keeps it a rescoring of what the lexical channels found (a post outside
 * their top 100 cannot enter).
 */
const LATENT_POOL = 100;

/**
 * Second-order similarity: each post's list of its `length` best neighbours by the channels so
 * far (itself included, by score), L2-normalised; two posts whose lists share neighbours get
 * their lists' cosine, which links pages that the same pages resemble.
 */
export function neighbourListChannel(
  channels: MatchChannel[],
  length: number,
  weight: number,
): MatchChannel {
  return runAtOnce(neighbourListChannelSteps(channels, length, weight));
}

function* neighbourListChannelSteps(
  channels: MatchChannel[],
  length: number,
  weight: number,
): Steps<MatchChannel> {
  const knn = yield* weightedNeighbourSteps(channels, length, 'neighbour lists');
  const rows: SparseVector[] = [];
  yield* loopSteps(knn.labels.length / knn.k, 'neighbour lists: vectors', (row) => {
    const pairs: [number, number][] = [];
    for (let j = 0; j < knn.k; j++) {
      const label = knn.labels[row * knn.k + j]!;
      if (label >= 0) pairs.push([label, knn.scores[row * knn.k + j]!]);
    }
    pairs.sort((a, b) => a[0] - b[0]);
    const norm = Math.sqrt(pairs.reduce((s, [, w]) => s + w * w, 0)) || 1;
    rows.push({
      ids: Int32Array.from(pairs, ([id]) => id),
      weights: Float32Array.from(pairs, ([, w]) => w / norm),
    });
  });
  return { queries: rows, docs: rows, weight };
}

/** Each row's candidates rescored with weight x the cosine of their dense vectors, best k kept. */
export function rescorePool(
  pool: Ranking,
  vectors: Float32Array,
  dim: number,
  weight: number,
  k: number,
): Ranking {
  return runAtOnce(rescorePoolSteps(pool, vectors, dim, weight, k));
}

/** rescorePool as steps, one per row (posts x 100 x dimensions: seconds on a large tenant). */
function* rescorePoolSteps(
  pool: Ranking,
  vectors: Float32Array,
  dim: number,
  weight: number,
  k: number,
): Steps<Ranking> {
  const rows = pool.labels.length / pool.k;
  const kk = Math.min(k, pool.k);
  const labels = new Int32Array(rows * kk).fill(-1);
  const scores = new Float32Array(rows * kk);
  for (let row = 0; row < rows; row++) {
    const candidates: { label: number; score: number }[] = [];
    for (let j = 0; j < pool.k; j++) {
      const label = pool.labels[row * pool.k + j]!;
      if (label < 0) continue;
      let dot = 0;
      for (let c = 0; c < dim; c++) dot += vectors[row * dim + c]! * vectors[label * dim + c]!;
      candidates.push({ label, score: pool.scores[row * pool.k + j]! + weight * dot });
    }
    candidates
      .sort((a, b) => b.score - a.score || a.label - b.label)
      .slice(0, kk)
      .forEach((c, i) => {
        labels[row * kk + i] = c.label;
        scores[row * kk + i] = c.score;
      });
    yield { stage: 'latent', done: row + 1, total: rows };
  }
  return { labels, scores, k: kk };
}

export interface LexicalInput {
  tenantId: string;
  runId: string;
  snapshotUri: string;
  /** fielded: the interactions the popularity step kept, to blend with (blendLists). */
  interactionsUri?: string;
  /** fielded, with latentVectors "embedding": the run's embeddings, for the latent channel. */
  embeddingsUri?: string;
}

/**
 * For a plan that computes `algorithms`: whether the default lists among them read the run's
 * embeddings (latentVectors "embedding"), so that the flow must embed even if nothing serves them.
 */
export function fieldedEmbeddingsPlan(
  config: Config,
  algorithms: string[],
): { fieldedReadsEmbeddings?: true } {
  const { latent, latentVectors } = config.fielded;
  return algorithms.includes('fielded') && latent > 0 && latentVectors === 'embedding'
    ? { fieldedReadsEmbeddings: true }
    : {};
}

/** The run's embeddings (keyed by content hash) as the latent channel's vectors. */
async function runEmbeddings(
  ctx: StepContext,
  embeddingsUri: string,
  tenantId: string,
): Promise<LatentVectors> {
  const file = decodeVectors(await ctx.artifacts.read(embeddingsUri));
  const rows = new Map(file.keys.map((key, i) => [key, i]));
  return (texts) => {
    const vectors = new Float32Array(texts.length * file.dim);
    texts.forEach((text, j) => {
      const row = rows.get(contentHash(text));
      if (row === undefined)
        throw new BadDataError(
          `${embeddingsUri} has no vector for a post of the snapshot: run the tenant again (osusume batch --tenant ${tenantId}).`,
        );
      vectors.set(file.data.subarray(row * file.dim, (row + 1) * file.dim), j * file.dim);
    });
    return { vectors, dim: file.dim };
  };
}

type RankTexts = (texts: FieldedText[], k: number) => Steps<Ranking>;

/** Each distinct text of the posts once (exact copies share it), by content hash, in their order. */
function distinctFields(posts: SnapshotPost[]): [string, FieldedText][] {
  return [...new Map(posts.map((p) => [p.contentHash, { title: p.title, text: p.text }]))];
}

/** Lists from a ranking of the posts' texts, each distinct text ranked once (exact copies share it). */
function* rankedLists(posts: SnapshotPost[], rank: RankTexts, k: number): Steps<RelatedList[]> {
  const unique = distinctFields(posts);
  const knn = yield* rank(
    unique.map(([, fields]) => fields),
    k + 1,
  );
  return buildRelatedLists(
    posts,
    unique.map(([hash]) => hash),
    knn,
    k,
  );
}

/** The baseline every other algorithm is judged against: TF-IDF cosine of the whole texts. */
export function lexicalLists(posts: SnapshotPost[], k: number): RelatedList[] {
  return runAtOnce(lexicalListSteps(posts, k));
}

export function lexicalListSteps(posts: SnapshotPost[], k: number): Steps<RelatedList[]> {
  return rankedLists(
    posts,
    function* (texts, kk) {
      return yield* sparseNeighbourSteps(yield* tfidfSteps(texts.map((t) => t.text)), kk);
    },
    k,
  );
}

/**
 * The default lists: title-aware lexical (fieldedNeighbours), blended with co-engagement where
 * the tenant has interactions (blendLists: by each post's evidence).
 */
export function fieldedLists(
  posts: SnapshotPost[],
  interactions: Interaction[],
  k: number,
  weights: FieldedWeights,
  latentVectors?: LatentVectors,
): RelatedList[] {
  return runAtOnce(fieldedListSteps(posts, interactions, k, weights, latentVectors));
}

/** fieldedLists as steps (runPaced), one per row of each ranking. */
export function* fieldedListSteps(
  posts: SnapshotPost[],
  interactions: Interaction[],
  k: number,
  weights: FieldedWeights,
  latentVectors?: LatentVectors,
): Steps<RelatedList[]> {
  const lists = yield* rankedLists(
    posts,
    (texts, kk) => fieldedNeighbourSteps(texts, kk, weights, latentVectors),
    k,
  );
  return blendLists(lists, interactions, k, { representative: shownCopies(posts) });
}

async function readSnapshot(ctx: StepContext, input: LexicalInput) {
  return readJsonLines<SnapshotPost>(ctx.artifacts, input.snapshotUri);
}

/**
 * Lexical item-to-item lists (TF-IDF cosine), stored. Ranking every post against every other
 * takes minutes on a large tenant: it pauses for the event loop as it goes (runPaced), so that the
 * step heartbeats and `pacing.onPause` can stop it.
 */
export async function computeLexical(ctx: StepContext, input: LexicalInput, pacing: Pacing = {}) {
  const posts = await readSnapshot(ctx, input);
  const lists = await runPaced(lexicalListSteps(posts, ctx.config.neighbours.k), pacing);
  return saveLists(ctx, input, 'lexical', lists);
}

/**
 * The tenant's LSA model for `latent`, when the channel is on: the model fieldedLists would train
 * on the same texts, trained with pauses for the event loop (trainLsaPaced).
 */
async function pacedLsaLatent(posts: SnapshotPost[], weights: FieldedWeights, pacing: Pacing) {
  if (weights.latent <= 0) return undefined;
  const texts = distinctFields(posts).map(([, fields]) => fields.text);
  return lsaLatent(await trainLsaPaced(texts, {}, pacing));
}

/**
 * The default lists (fieldedLists), stored: the same lists, computed with pauses for the event
 * loop (runPaced), so that the minutes they take on a large tenant do not hold the step's
 * heartbeats, and `pacing.onPause` can stop them.
 */
export async function computeFielded(ctx: StepContext, input: LexicalInput, pacing: Pacing = {}) {
  const posts = await readSnapshot(ctx, input);
  const interactions = input.interactionsUri
    ? await readJsonLines<Interaction>(ctx.artifacts, input.interactionsUri)
    : (await readValidInteractions(ctx, input.tenantId)).interactions;
  const { k } = ctx.config.neighbours;
  const latent = input.embeddingsUri
    ? await runEmbeddings(ctx, input.embeddingsUri, input.tenantId)
    : await pacedLsaLatent(posts, ctx.config.fielded, pacing);
  const steps = fieldedListSteps(posts, interactions, k, ctx.config.fielded, latent);
  return saveLists(ctx, input, 'fielded', await runPaced(steps, pacing));
}
