/**
 * Offline evaluation of related-post lists against ground-truth related pairs (undirected):
 * recall@k, nDCG@k and MRR over the posts that have at least one related post, catalogue
 * coverage, and list overlap between algorithms. Binary relevance throughout. The noise of a
 * macro mean: a paired bootstrap over the queries of each tenant (drawResamples, resampledMacro).
 */
import { createRandom } from './random.js';

export type Lists = Map<string, string[]>;

export interface TenantMetrics {
  queries: number;
  recall: number;
  ndcg: number;
  mrr: number;
  /** Share of the tenant's posts that appear in at least one top-k list. */
  coverage: number;
  /** nDCG@k of each query, in the order of the related sets (the same for every algorithm). */
  ndcgPerQuery: number[];
}

/**
 * Undirected adjacency from pairs; pairs naming unknown posts are dropped. Relevance is judged on
 * texts: a related post counts as the copy of its text that lists show (`shownAs`; exact copies
 * are shown as one post, and which one is the batch's choice), and a related post with the
 * query's own text, which no list shows, is not counted.
 */
export function relatedSets(
  pairs: [string, string][],
  known: Set<string>,
  shownAs: (postId: string) => string,
): Map<string, Set<string>> {
  const related = new Map<string, Set<string>>();
  const add = (a: string, b: string) => {
    if (shownAs(a) === shownAs(b)) return;
    if (!related.has(a)) related.set(a, new Set());
    related.get(a)!.add(shownAs(b));
  };
  for (const [a, b] of pairs) {
    if (a === b || !known.has(a) || !known.has(b)) continue;
    add(a, b);
    add(b, a);
  }
  return related;
}

export function evaluateLists(
  lists: Lists,
  related: Map<string, Set<string>>,
  catalogue: Set<string>,
  k: number,
): TenantMetrics {
  let recall = 0;
  let ndcg = 0;
  let mrr = 0;
  let queries = 0;
  const ndcgPerQuery: number[] = [];
  const covered = new Set<string>();
  for (const items of lists.values())
    for (const id of items.slice(0, k)) if (catalogue.has(id)) covered.add(id);
  for (const [post, relevant] of related) {
    const top = (lists.get(post) ?? []).slice(0, k);
    queries += 1;
    let hits = 0;
    let dcg = 0;
    let firstRank = 0;
    top.forEach((id, i) => {
      if (!relevant.has(id)) return;
      hits += 1;
      dcg += 1 / Math.log2(i + 2);
      if (firstRank === 0) firstRank = i + 1;
    });
    let ideal = 0;
    for (let i = 0; i < Math.min(relevant.size, k); i++) ideal += 1 / Math.log2(i + 2);
    recall += hits / relevant.size;
    ndcg += dcg / ideal;
    ndcgPerQuery.push(dcg / ideal);
    mrr += firstRank > 0 ? 1 / firstRank : 0;
  }
  const mean = (x: number) => (queries > 0 ? x / queries : 0);
  return {
    queries,
    recall: mean(recall),
    ndcg: mean(ndcg),
    mrr: mean(mrr),
    coverage: catalogue.size > 0 ? covered.size / catalogue.size : 0,
    ndcgPerQuery,
  };
}

/** Mean Jaccard similarity of the top-k lists of two algorithms over the posts both list. */
export function listOverlap(a: Lists, b: Lists, k: number): number {
  let sum = 0;
  let n = 0;
  for (const [post, items] of a) {
    const other = b.get(post);
    if (!other) continue;
    const x = new Set(items.slice(0, k));
    const y = new Set(other.slice(0, k));
    const union = new Set([...x, ...y]).size;
    if (union === 0) continue;
    sum += [...x].filter((id) => y.has(id)).length / union;
    n += 1;
  }
  return n > 0 ? sum / n : 0;
}

export function macroAverage(
  perTenant: TenantMetrics[],
): Omit<TenantMetrics, 'queries' | 'ndcgPerQuery'> & { tenants: number } {
  const counted = perTenant.filter((m) => m.queries > 0);
  const avg = (f: (m: TenantMetrics) => number) =>
    counted.length ? counted.reduce((s, m) => s + f(m), 0) / counted.length : 0;
  return {
    tenants: counted.length,
    recall: avg((m) => m.recall),
    ndcg: avg((m) => m.ndcg),
    mrr: avg((m) => m.mrr),
    coverage: avg((m) => m.coverage),
  };
}

/** Resamples drawn by the paired bootstrap, and the fixed seed they are drawn from by default. */
export const BOOTSTRAP_RESAMPLES = 1000;
export const BOOTSTRAP_SEED = 20261130;

/**
 * The resamples of one set for a paired bootstrap: for each tenant with n queries, `resamples`
 * draws of n queries with replacement within the tenant, kept as how often each query was drawn
 * (`counts[tenant][r * n + query]`). Every algorithm of the set is scored on the same draws, so
 * that a ratio or a difference varies only with the queries drawn, not with two draws.
 */
export interface Resamples {
  resamples: number;
  counts: Uint16Array[];
}

export function drawResamples(
  queriesPerTenant: number[],
  resamples = BOOTSTRAP_RESAMPLES,
  seed = BOOTSTRAP_SEED,
): Resamples {
  const random = createRandom(seed);
  const counts = queriesPerTenant.map((n) => {
    const c = new Uint16Array(resamples * n);
    for (let r = 0; r < resamples; r++)
      for (let i = 0; i < n; i++) c[r * n + Math.floor(random() * n)]! += 1;
    return c;
  });
  return { resamples, counts };
}

/**
 * The set's macro mean (over tenants with queries, as `macroAverage`) of per-query scores in each
 * resample. `scores[tenant]` are the per-query scores of one algorithm, in the draws' order.
 */
export function resampledMacro(scores: number[][], draws: Resamples): Float64Array {
  const out = new Float64Array(draws.resamples);
  const tenants = scores.filter((s) => s.length > 0).length;
  scores.forEach((s, t) => {
    const n = s.length;
    if (n === 0) return;
    const c = draws.counts[t]!;
    if (c.length !== n * draws.resamples)
      throw new Error(`tenant ${t}: ${n} scores, but the resamples were drawn for another count`);
    for (let r = 0; r < draws.resamples; r++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += c[r * n + i]! * s[i]!;
      out[r]! += sum / n / tenants;
    }
  });
  return out;
}

/** The ratio of two algorithms' macro means in each resample (0 where the baseline is 0). */
export function resampledRatio(numerator: Float64Array, baseline: Float64Array): Float64Array {
  return numerator.map((x, r) => (baseline[r]! > 0 ? x / baseline[r]! : 0));
}

/** The percentile interval holding the central `level` of the values (95 % by default). */
export function percentileInterval(values: ArrayLike<number>, level = 0.95): [number, number] {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
  return [at((1 - level) / 2), at((1 + level) / 2)];
}

/** A set's fixed seed: the shared seed mixed with its name, the same in the suite and the sweep. */
export function setSeed(name: string, seed = BOOTSTRAP_SEED): number {
  let h = seed >>> 0;
  for (const ch of name) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
  return h;
}
