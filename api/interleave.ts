import { uniformHash } from '../core/experiments.js';
import type { ServedItem } from '../core/store/types.js';

export interface TeamItem extends ServedItem {
  team: string;
}

/**
 * Team-draft interleaving (Radlinski, Kurup & Joachims, 2008): the team with fewer picks picks
 * next (a coin decides ties), taking its best item not yet shown. A click credits the item's team.
 * The coin is a hash of the request id, so a request's list can be rebuilt exactly.
 */
export function teamDraft(
  a: { team: string; items: ServedItem[] },
  b: { team: string; items: ServedItem[] },
  limit: number,
  requestId: string,
): TeamItem[] {
  const out: TeamItem[] = [];
  const shown = new Set<string>();
  const cursor = { [a.team]: 0, [b.team]: 0 };
  const picks = { [a.team]: 0, [b.team]: 0 };
  const next = (side: typeof a): ServedItem | undefined => {
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
    out.push(
      item.scoreJson === undefined
        ? { postId: item.postId, score: item.score, team: side.team }
        : { postId: item.postId, score: item.score, scoreJson: item.scoreJson, team: side.team },
    );
  }
  return out;
}
