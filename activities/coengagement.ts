import { readJsonLines } from '../core/artifacts.js';
import type { Interaction, SnapshotPost } from '../core/posts.js';
import type { RelatedList } from '../core/store/types.js';
import { saveLists, type StepContext } from './context.js';
import { readValidInteractions } from './popular.js';

/** Users with more interactions than this are left out (crawlers, bots), and so is their O(n^2). */
const MAX_POSTS_PER_USER = 200;

/**
 * Item-to-item lists from co-engagement: posts the same users interacted with, scored by the
 * cosine of their user sets, co(a, b) / sqrt(n(a) n(b)). Posts nobody engaged with get no list
 * (the API then answers from the popular list).
 */
export function coengagementLists(
  posts: string[],
  interactions: Interaction[],
  k: number,
): RelatedList[] {
  const live = new Set(posts);
  const byUser = new Map<string, Set<string>>();
  for (const i of interactions) {
    if (!live.has(i.postId)) continue;
    let set = byUser.get(i.userId);
    if (!set) byUser.set(i.userId, (set = new Set()));
    set.add(i.postId);
  }
  const users = new Map<string, number>();
  const co = new Map<string, Map<string, number>>();
  for (const set of byUser.values()) {
    if (set.size > MAX_POSTS_PER_USER) continue;
    const items = [...set];
    for (const a of items) {
      users.set(a, (users.get(a) ?? 0) + 1);
      let row = co.get(a);
      if (!row) co.set(a, (row = new Map()));
      for (const b of items) if (b !== a) row.set(b, (row.get(b) ?? 0) + 1);
    }
  }
  return posts.map((postId) => {
    const row = co.get(postId) ?? new Map<string, number>();
    const items = [...row.entries()]
      .map(([other, count]) => ({
        postId: other,
        count,
        score: count / Math.sqrt(users.get(postId)! * users.get(other)!),
      }))
      .sort((x, y) => y.score - x.score || y.count - x.count || (x.postId < y.postId ? -1 : 1))
      .slice(0, k)
      .map(({ postId: p, score }) => ({ postId: p, score: Math.round(score * 1e4) / 1e4 }));
    return { postId, items };
  });
}

export interface CoengagementInput {
  tenantId: string;
  runId: string;
  snapshotUri: string;
  /** The interactions the popularity step kept; absent (older runs), they are read from the warehouse. */
  interactionsUri?: string;
}

export async function computeCoengagement(
  ctx: StepContext,
  input: CoengagementInput,
): Promise<{ listsUri: string; lists: number }> {
  const posts = await readJsonLines<SnapshotPost>(ctx.artifacts, input.snapshotUri);
  const interactions = input.interactionsUri
    ? await readJsonLines<Interaction>(ctx.artifacts, input.interactionsUri)
    : (await readValidInteractions(ctx, input.tenantId)).interactions;
  const lists = coengagementLists(
    posts.map((p) => p.postId),
    interactions,
    ctx.config.neighbours.k,
  );
  return saveLists(ctx, input, 'coengagement', lists);
}
