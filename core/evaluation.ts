/**
 * Offline evaluation of related-post lists against ground-truth related pairs (undirected):
 * recall@k, nDCG@k and MRR over the posts that have at least one related post, catalogue
 * coverage, and list overlap between algorithms. Binary relevance throughout.
 */
export type Lists = Map<string, string[]>;

export interface TenantMetrics {
  queries: number;
  recall: number;
  ndcg: number;
  mrr: number;
  /** Share of the tenant's posts that appear in at least one top-k list. */
  coverage: number;
}

/** Undirected adjacency from pairs; pairs naming unknown posts are dropped. */
export function relatedSets(
  pairs: [string, string][],
  known: Set<string>,
): Map<string, Set<string>> {
  const related = new Map<string, Set<string>>();
  const add = (a: string, b: string) => {
    if (!related.has(a)) related.set(a, new Set());
    related.get(a)!.add(b);
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
    mrr += firstRank > 0 ? 1 / firstRank : 0;
  }
  const mean = (x: number) => (queries > 0 ? x / queries : 0);
  return {
    queries,
    recall: mean(recall),
    ndcg: mean(ndcg),
    mrr: mean(mrr),
    coverage: catalogue.size > 0 ? covered.size / catalogue.size : 0,
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
): Omit<TenantMetrics, 'queries'> & { tenants: number } {
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
