import type { ScoredItem } from '../core/store/types.js';

/**
 * Recently served lists, in memory. A version's lists never change once it is activated (a run
 * writes a new version), and the key names the version, so a cached list is never stale: after
 * an activation requests simply ask for other keys, and the old ones age out. A missing list is
 * cached as null for the same reason; a failed read is not cached. Least recently used entries
 * go first; capacity 0 turns the cache off.
 */
export class ListCache {
  private readonly entries = new Map<string, ScoredItem[] | null>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  async read(
    key: readonly string[],
    load: () => Promise<ScoredItem[] | null>,
  ): Promise<ScoredItem[] | null> {
    if (this.capacity === 0) return load();
    const joined = ListCache.join(key);
    const hit = this.hit(joined);
    return hit !== undefined ? hit : this.remember(joined, await load());
  }

  /** The same with a synchronous load (a store that reads without waiting). */
  readNow(key: readonly string[], load: () => ScoredItem[] | null): ScoredItem[] | null {
    if (this.capacity === 0) return load();
    const joined = ListCache.join(key);
    const hit = this.hit(joined);
    return hit !== undefined ? hit : this.remember(joined, load());
  }

  // Ids cannot hold U+0000 (core/ids.ts), so joined keys of different parts never collide.
  private static join(key: readonly string[]): string {
    return key.join('\u0000');
  }

  private hit(joined: string): ScoredItem[] | null | undefined {
    const hit = this.entries.get(joined);
    if (hit !== undefined) {
      this.entries.delete(joined);
      this.entries.set(joined, hit);
    }
    return hit;
  }

  private remember(joined: string, value: ScoredItem[] | null): ScoredItem[] | null {
    this.entries.set(joined, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
