import { readJsonLines, runArtifact, writeJsonLines } from '../core/artifacts.js';
import { interactionRowSchema, type Interaction, type SnapshotPost } from '../core/posts.js';
import type { RelatedList, ScoredItem } from '../core/store/types.js';
import { saveLists, storedScore, type StepContext } from './context.js';

/** How much one interaction of a type says about a post's popularity. */
const TYPE_WEIGHT: Record<string, number> = { view: 1, click: 2, like: 3, comment: 4 };
const HALF_LIFE_DAYS = 14;
const POPULAR_LIST_SIZE = 100;

/**
 * Popularity with recency: time-decayed, type-weighted interaction counts, with post age as the
 * tie-breaker (so a tenant with no interactions gets its newest posts). `now` is the newest event
 * or post time in the data, which keeps the result deterministic.
 */
function popularItems(
  posts: SnapshotPost[],
  interactions: Interaction[],
  size = POPULAR_LIST_SIZE,
): ScoredItem[] {
  const live = new Set(posts.map((p) => p.postId));
  const times = [...interactions.map((i) => i.ts), ...posts.map((p) => p.createdAt)];
  const now = times.length > 0 ? Date.parse(times.reduce((a, b) => (a > b ? a : b))) : 0;
  const decay = (iso: string) =>
    Math.pow(0.5, (now - Date.parse(iso)) / (HALF_LIFE_DAYS * 86_400_000));
  const score = new Map<string, number>();
  for (const p of posts) score.set(p.postId, 1e-3 * decay(p.createdAt));
  for (const i of interactions) {
    if (!live.has(i.postId)) continue;
    score.set(i.postId, score.get(i.postId)! + (TYPE_WEIGHT[i.type] ?? 1) * decay(i.ts));
  }
  return [...score.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, size)
    .map(([postId, s]) => ({ postId, score: storedScore(s) }));
}

/** For tenants too small for embeddings: every post gets the popular posts, minus itself. */
function popularLists(posts: SnapshotPost[], popular: ScoredItem[], k: number): RelatedList[] {
  return posts.map((p) => ({
    postId: p.postId,
    items: popular.filter((i) => i.postId !== p.postId).slice(0, k),
  }));
}

export interface PopularInput {
  tenantId: string;
  runId: string;
  snapshotUri: string;
  /** Also write per-post lists (for tenants below the embedding threshold). */
  perPostLists: boolean;
  /** Keep the valid interactions as an artifact for a later step (co-engagement): one warehouse read. */
  keepInteractions?: boolean;
}

export interface PopularResult {
  popularUri: string;
  listsUri?: string;
  /** The valid interactions (JSON lines), when asked to keep them. */
  interactionsUri?: string;
  interactions: number;
  skippedInteractions: number;
}

/** A tenant's interactions from the warehouse; rows that do not match the contract are counted, not used. */
export async function readValidInteractions(
  ctx: StepContext,
  tenantId: string,
): Promise<{ interactions: Interaction[]; skipped: number }> {
  const rows = await ctx.warehouse.readInteractions(tenantId);
  const interactions: Interaction[] = [];
  for (const row of rows) {
    const parsed = interactionRowSchema.safeParse(row);
    if (parsed.success) interactions.push(parsed.data);
  }
  return { interactions, skipped: rows.length - interactions.length };
}

export async function computePopular(
  ctx: StepContext,
  input: PopularInput,
): Promise<PopularResult> {
  const posts = await readJsonLines<SnapshotPost>(ctx.artifacts, input.snapshotUri);
  const { interactions, skipped } = await readValidInteractions(ctx, input.tenantId);
  const popular = popularItems(posts, interactions);
  const popularUri = runArtifact(ctx.artifacts, input.runId, input.tenantId, 'popular.json');
  await ctx.artifacts.write(popularUri, JSON.stringify(popular));
  const listsUri = input.perPostLists
    ? (
        await saveLists(
          ctx,
          input,
          'popular',
          popularLists(posts, popular, ctx.config.neighbours.k),
        )
      ).listsUri
    : undefined;
  let interactionsUri: string | undefined;
  if (input.keepInteractions) {
    interactionsUri = runArtifact(ctx.artifacts, input.runId, input.tenantId, 'interactions.jsonl');
    await writeJsonLines(ctx.artifacts, interactionsUri, interactions);
  }
  return {
    popularUri,
    listsUri,
    interactionsUri,
    interactions: interactions.length,
    skippedInteractions: skipped,
  };
}
