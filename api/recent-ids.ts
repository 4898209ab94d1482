import { createHash } from 'node:crypto';

/** How many event ids the API remembers: a batch re-sent within this many events is caught. */
export const RECENT_EVENT_IDS = 200_000;

/**
 * Event ids seen recently, up to `capacity`, the oldest forgotten first: a re-sent batch is
 * accepted and not logged twice. Each id is kept as the first 128 bits of its SHA-256, 16
 * one-byte characters, not as itself: ids of 128 non-Latin characters (two bytes each) took
 * 74 MB at capacity; now any id takes the same, about 12 MB at capacity (less than UUIDs took).
 * A cryptographic hash, so that no client can make another's id collide with its own and have
 * it dropped; 128 bits, so that none ever collides by chance.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}

  /** True when the id is new. */
  add(id: string): boolean {
    // A fresh 16-character string: a slice of the whole digest would keep all of it alive.
    const key = createHash('sha256').update(id).digest().toString('latin1', 0, 16);
    if (this.ids.has(key)) return false;
    this.ids.add(key);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
