import { readJsonLines } from '../core/artifacts.js';
import type { Interaction, SnapshotPost } from '../core/posts.js';
import type { RelatedList } from '../core/store/types.js';
import { saveLists, storedScore, topItems, type StepContext } from './context.js';
import { readValidInteractions } from './popular.js';

/** Users with more interactions than this are left out (crawlers, bots), and so is their O(n^2). */
const MAX_POSTS_PER_USER = 200;

/** Users per post, and users per pair of posts (co-engagement counts). */
function coengagement(posts: string[], interactions: Interaction[]) {
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
  return { users, co };
}

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
  const counts = coengagement(posts, interactions);
  return posts.map((postId) => ({ postId, items: mostCoengaged(counts, postId, k) }));
}

function mostCoengaged(
  { users, co }: ReturnType<typeof coengagement>,
  postId: string,
  k: number,
): RelatedList['items'] {
  const row = co.get(postId) ?? new Map<string, number>();
  return [...row.entries()]
    .map(([other, count]) => ({
      postId: other,
      count,
      score: count / Math.sqrt(users.get(postId)! * users.get(other)!),
    }))
    .sort((x, y) => y.score - x.score || y.count - x.count || (x.postId < y.postId ? -1 : 1))
    .slice(0, k)
    .map(({ postId: p, score }) => ({ postId: p, score: storedScore(score) }));
}

/**
 * Users after whom a post's co-engagement counts as much as its text: a post's weight on
 * co-engagement is n / (n + EVIDENCE_USERS) for n users who engaged with it (a round number,
 * EVALUATION.md, "Learning from interactions").
 */
const EVIDENCE_USERS = 10;

/**
 * Text lists blended with co-engagement by each post's evidence: a post nobody engaged with keeps
 * its text list, a post many users engaged with is ranked mostly by what the same users engaged
 * with. Both lists are scaled to their best score first (their scores are not comparable).
 */
export function blendLists(
  text: RelatedList[],
  interactions: Interaction[],
  k: number,
  options: {
    evidenceUsers?: number;
    /** The post that stands for a post's exact copies in lists (text lists name only it). */
    representative?: (postId: string) => string;
  } = {},
): RelatedList[] {
  const { evidenceUsers = EVIDENCE_USERS, representative = (id: string) => id } = options;
  if (interactions.length === 0) return text;
  const counts = coengagement(
    text.map((l) => l.postId),
    interactions,
  );
  return text.map((list) => {
    const n = counts.users.get(list.postId) ?? 0;
    // A post's co-engaged copies are one item, and its own copies none, as in the text lists.
    const self = representative(list.postId);
    const seen = new Set([self]);
    const co: RelatedList['items'] = [];
    for (const item of n > 0 ? mostCoengaged(counts, list.postId, 2 * k) : []) {
      const postId = representative(item.postId);
      if (seen.has(postId)) continue;
      seen.add(postId);
      co.push({ postId, score: item.score });
    }
    if (co.length === 0) return list;
    const w = n / (n + evidenceUsers);
    const scores = new Map<string, number>();
    const add = (items: RelatedList['items'], weight: number) => {
      const best = items[0]?.score || 1;
      for (const i of items)
        scores.set(i.postId, (scores.get(i.postId) ?? 0) + (weight * i.score) / best);
    };
    add(list.items, 1 - w);
    add(co, w);
    return { postId: list.postId, items: topItems(scores, k) };
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
