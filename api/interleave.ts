import { uniformHash } from '../core/experiments.js';
import type { ScoredItem } from '../core/store/types.js';

export interface TeamItem extends ScoredItem {
  team: string;
}

/**
 * Team-draft interleaving (Radlinski, Kurup & Joachims, 2008): the team with fewer picks picks
 * next (a coin decides ties), taking its best item not yet shown. A click credits the item's team.
 * The coin is a hash of the request id, so a request's list can be rebuilt exactly.
 */
export function teamDraft(
  a: { team: string; items: ScoredItem[] },
  b: { team: string; items: ScoredItem[] },
  limit: number,
  requestId: string,
): TeamItem[] {
  const out: TeamItem[] = [];
  const shown = new Set<string>();
  const cursor = { [a.team]: 0, [b.team]: 0 };
  const picks = { [a.team]: 0, [b.team]: 0 };
  const next = (side: typeof a): ScoredItem | undefined => {
    while (cursor[side.team]! < side.items.length) {
      const item = side.items[cursor[side.team]!++]!;
      if (!shown.has(item.postId)) return item;
    }
    return undefined;
  };
  for (let round = 0; out.length < limit; round++) {
    const aFirst =
      picks[a.team]! < picks[b.team]! ||
      (picks[a.team] === picks[b.team] && uniformHash(requestId, String(round)) < 0.5);
    const [first, second] = aFirst ? [a, b] : [b, a];
    let side = first;
    let item = next(first);
    if (!item) {
      side = second;
      item = next(second);
    }
    if (!item) break;
    shown.add(item.postId);
    picks[side.team]! += 1;
    out.push({ postId: item.postId, score: item.score, team: side.team });
  }
  return out;
}
