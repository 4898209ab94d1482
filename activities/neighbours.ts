import { readJsonLines } from '../core/artifacts.js';
import { log } from '../core/log.js';
import type { SnapshotPost } from '../core/posts.js';
import type { RelatedList } from '../core/store/types.js';
import { decodeVectors } from '../core/vectors.js';
import { saveLists, storedScore, type StepContext } from './context.js';
import { allNearestNeighbours, type KnnResult } from './knn.js';

export interface NeighboursInput {
  tenantId: string;
  runId: string;
  snapshotUri: string;
  embeddingsUri: string;
}

export interface NeighboursResult {
  listsUri: string;
  lists: number;
  mode: KnnResult['mode'];
  /** Posts that are exact copies of an older post (same text): never recommended. */
  duplicates: number;
}

/**
 * Groups posts by content hash: one group per distinct text, its oldest post first.
 * Only that first post is ever recommended, so exact duplicates never show up in a list.
 */
function groupByContent(posts: SnapshotPost[]): Map<string, SnapshotPost[]> {
  const groups = new Map<string, SnapshotPost[]>();
  for (const p of posts) {
    const g = groups.get(p.contentHash);
    if (g) g.push(p);
    else groups.set(p.contentHash, [p]);
  }
  for (const g of groups.values()) {
    g.sort((a, b) =>
      a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.postId < b.postId ? -1 : 1,
    );
  }
  return groups;
}

/**
 * A post's id -> the id of the copy of its text that lists show (groupByContent's first); an id
 * not among the posts is its own.
 */
export function shownCopies(posts: SnapshotPost[]): (postId: string) => string {
  const groups = groupByContent(posts);
  const shown = new Map(posts.map((p) => [p.postId, groups.get(p.contentHash)![0]!.postId]));
  return (postId) => shown.get(postId) ?? postId;
}

/**
 * Turns neighbours between distinct texts into related-post lists: a post's list never holds
 * itself, a copy of itself, or two copies of one text; scores are cosine similarities. A row of
 * `blank` gets no list and is in none.
 */
export function buildRelatedLists(
  posts: SnapshotPost[],
  keys: string[],
  knn: Pick<KnnResult, 'labels' | 'scores' | 'k'>,
  k: number,
  blank: ReadonlySet<number> = new Set(),
): RelatedList[] {
  const groups = groupByContent(posts);
  const representative = keys.map((key) => groups.get(key)?.[0]?.postId);
  const lists: RelatedList[] = [];
  keys.forEach((key, row) => {
    const items: RelatedList['items'] = [];
    const candidates = blank.has(row) ? 0 : knn.k;
    for (let j = 0; j < candidates && items.length < k; j++) {
      const label = knn.labels[row * knn.k + j]!;
      const postId =
        label >= 0 && label !== row && !blank.has(label) ? representative[label] : undefined;
      if (postId !== undefined)
        items.push({ postId, score: storedScore(knn.scores[row * knn.k + j]!) });
    }
    for (const post of groups.get(key) ?? []) lists.push({ postId: post.postId, items });
  });
  return lists.sort((a, b) => (a.postId < b.postId ? -1 : 1));
}

/**
 * Rows whose vector is all zero (a text with no term of a tenant's LSA model): their cosine is 0
 * with every post, so faiss would list arbitrary posts for them, and them in the tails of others
 * before the API's popular fallback could.
 */
function zeroRows(data: Float32Array, dim: number): Set<number> {
  const rows = new Set<number>();
  for (let row = 0; row * dim < data.length; row++)
    if (data.subarray(row * dim, (row + 1) * dim).every((x) => x === 0)) rows.add(row);
  return rows;
}

export async function computeNeighbours(
  ctx: StepContext,
  input: NeighboursInput,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<NeighboursResult> {
  const posts = await readJsonLines<SnapshotPost>(ctx.artifacts, input.snapshotUri);
  const vectors = decodeVectors(await ctx.artifacts.read(input.embeddingsUri));
  const { k, exactMaxPosts, nprobe } = ctx.config.neighbours;
  const knn = await allNearestNeighbours(
    vectors.data,
    vectors.dim,
    { k: k + 1, exactMaxRows: exactMaxPosts, nprobe },
    onProgress,
  );
  const blank = zeroRows(vectors.data, vectors.dim);
  if (blank.size > 0) {
    const blankTexts = new Set([...blank].map((row) => vectors.keys[row]));
    const without = posts.filter((p) => blankTexts.has(p.contentHash)).map((p) => p.postId);
    log.warn('posts without an embedding get no embedding list and are in none', {
      tenantId: input.tenantId,
      posts: without.length,
      first: without.slice(0, 5),
      advice:
        'their text has no term of the tenant model (only emoji, punctuation or one-letter words, or words that no other, different text uses): the API serves them popular posts instead; nothing to do unless they should have related posts, then give them words that other posts share',
    });
  }
  const lists = buildRelatedLists(posts, vectors.keys, knn, k, blank);
  const { listsUri } = await saveLists(ctx, input, 'embedding', lists);
  return {
    listsUri,
    lists: lists.length,
    mode: knn.mode,
    duplicates: posts.length - vectors.count,
  };
}
