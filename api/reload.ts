import { readFileSync } from 'node:fs';
import { errorMessage } from '../core/errors.js';
import { log } from '../core/log.js';

/**
 * A value loaded from a file and re-loaded when the file changes (checked every `intervalMs`):
 * editing experiments.yaml or the key file needs no restart. A broken edit is logged and the
 * previous value stays in force; at start-up a broken file is an error.
 */
export interface Reloading<T> {
  get(): T;
  stop(): void;
}

/**
 * The file's bytes (null when it cannot be read), compared rather than its modification time
 * and size: the kernel stamps files at a grain of a few milliseconds, so a key rotated under the
 * same id (revoked and created again: same size) in one tick looked unchanged and the revoked
 * key stayed valid; and a mount that fetches the content when it is read, such as a Cloud Run
 * secret volume, need not change either. The files are small: reading them costs little.
 */
function contents(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}

const same = (a: Buffer | null, b: Buffer | null) => (a && b ? a.equals(b) : a === b);

export function reloading<T>(
  file: string,
  load: (file: string) => T,
  intervalMs: number,
  onLoad: (value: T) => void = () => {},
): Reloading<T> {
  // Read before loading: a change in between is then seen, and loaded, at the next check.
  let seen = contents(file);
  let value = load(file);
  onLoad(value);
  const timer = setInterval(() => {
    const now = contents(file);
    if (same(now, seen)) return;
    seen = now;
    try {
      value = load(file);
      log.info('reloaded', { file });
      onLoad(value);
    } catch (error) {
      log.error('reload failed; keeping the previous version', {
        file,
        error: errorMessage(error),
      });
    }
  }, intervalMs);
  timer.unref();
  return { get: () => value, stop: () => clearInterval(timer) };
}

interface TtlEntry<T> {
  value: Promise<T>;
  at: number;
  /** Set once the load succeeded: what `peek` returns. */
  settled?: { value: T };
}

/**
 * Per-tenant values cached for `ttlMs` (hidden posts: read once per tenant per interval, not per
 * request), for at most `capacity` keys: the entry loaded longest ago goes first, so ids that
 * arrive in any number cannot grow it.
 */
export class TtlCache<T> {
  private readonly entries = new Map<string, TtlEntry<T>>();
  constructor(
    private readonly ttlMs: number,
    private readonly load: (key: string) => Promise<T>,
    private readonly capacity = 10_000,
  ) {}

  get(key: string): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && performance.now() - hit.at < this.ttlMs) return hit.value;
    const value = this.load(key);
    const entry: TtlEntry<T> = { value, at: performance.now() };
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    value.then(
      (loaded) => (entry.settled = { value: loaded }),
      // A failed load is forgotten, unless a newer load of the key has taken its place.
      () => this.entries.get(key) === entry && this.entries.delete(key),
    );
    return value;
  }

  /** The value if it is loaded and fresh, without waiting or loading; undefined otherwise. */
  peek(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit?.settled || performance.now() - hit.at >= this.ttlMs) return undefined;
    return hit.settled.value;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}
