import { readJsonLines } from '../core/artifacts.js';
import type { RelatedList } from '../core/store/types.js';
import { saveLists, topItems, type StepContext } from './context.js';

/**
 * Hybrid lists: the embedding and lexical lists of each post fused by the mean of their cosine
 * scores (a candidate missing from one list gets that list's lowest score, a bound on what it
 * would have had). Equal weights: no weight is tuned on any dataset.
 */
export function fuseLists(a: RelatedList[], b: RelatedList[], k: number): RelatedList[] {
  const byPost = new Map(b.map((l) => [l.postId, l.items]));
  return a.map((list) => {
    const other = byPost.get(list.postId) ?? [];
    const floorA = list.items.at(-1)?.score ?? 0;
    const floorB = other.at(-1)?.score ?? 0;
    const scores = new Map<string, [number, number]>();
    for (const i of list.items) scores.set(i.postId, [i.score, floorB]);
    for (const i of other) scores.set(i.postId, [scores.get(i.postId)?.[0] ?? floorA, i.score]);
    const mean = [...scores].map(([postId, [x, y]]): [string, number] => [postId, (x + y) / 2]);
    return { postId: list.postId, items: topItems(mean, k) };
  });
}

export interface HybridInput {
  tenantId: string;
  runId: string;
  embeddingListsUri: string;
  lexicalListsUri: string;
}

export async function computeHybrid(
  ctx: StepContext,
  input: HybridInput,
): Promise<{ listsUri: string; lists: number }> {
  const embedding = await readJsonLines<RelatedList>(ctx.artifacts, input.embeddingListsUri);
  const lexical = await readJsonLines<RelatedList>(ctx.artifacts, input.lexicalListsUri);
  const lists = fuseLists(embedding, lexical, ctx.config.neighbours.k);
  return saveLists(ctx, input, 'hybrid', lists);
}
