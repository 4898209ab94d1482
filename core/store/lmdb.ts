import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { open, type Key, type RootDatabase } from 'lmdb';
import { BackendError, ConfigError } from '../errors.js';
import {
  checkVersion,
  ActiveVersionReads,
  ImmutableVersionError,
  nextActive,
  noDataError,
  refusedActivation,
  wasActivated,
  type ActivationGuard,
  type ActiveVersion,
  type VersionInfo,
  type RecommendationStore,
  type RelatedList,
  type ScoredItem,
  type ServedItem,
  type SyncListReads,
  numberJson,
} from './types.js';

/**
 * The embedded store. Keys are arrays (LMDB's ordered-binary encoding), so ids are data, never
 * parsed: ['a', tenant] -> active pointer, ['v', tenant, version] -> version marker (VersionInfo
 * without the id; markers written before it had times hold { createdAt }),
 * ['l', tenant, version, algorithm, postId] -> list, ['p', tenant, version] -> popular list,
 * ['h', tenant, postId] -> hidden post. A list is an array of { postId, score, scoreJson }, the
 * last being the score as JSON text (`scoreJson`), which the API's synchronous reads pass on;
 * lists written before 2026-11-30 have no scoreJson and are read the same. The reads of the
 * store contract return { postId, score }.
 * An id cannot hold U+0000 (the id schema forbids control characters), which makes
 * `x + '\u0000'` the end of the range of keys under x.
 */
const END = '\u0000';

/** Items as stored: with the score as JSON text too. */
const stored = (items: readonly ScoredItem[]): ServedItem[] =>
  items.map(({ postId, score }) => ({ postId, score, scoreJson: numberJson(score) }));

/** Items as the store contract returns them; anything else stored is returned as it is. */
const scored = (items: readonly ServedItem[] | null): ScoredItem[] | null =>
  items &&
  items.map((item) =>
    typeof item === 'object' && item !== null ? { postId: item.postId, score: item.score } : item,
  );

function truncatedStore(file: string, size: number, needed: number): ConfigError {
  return new ConfigError(
    `The LMDB store ${file} is truncated (${size} bytes; its pages reach ${needed}): restore it from a backup, or move it away and run the batch (osusume batch), which writes every tenant's lists anew.`,
  );
}

export class LmdbStore extends ActiveVersionReads implements RecommendationStore, SyncListReads {
  private readonly db: RootDatabase<unknown, Key>;
  /** Reads come from the memory-mapped file: they need not wait. */
  readonly now: SyncListReads = this;

  constructor(file: string) {
    super();
    mkdirSync(path.dirname(file), { recursive: true });
    // Reading a page past the end of a truncated file kills the process (SIGBUS, SIGSEGV)
    // without a word. Its two meta pages (4 KiB or more each) say how far its pages reach.
    const before = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    if (before > 0 && before < 2 * 4096) throw truncatedStore(file, before, 2 * 4096);
    this.db = open<unknown, Key>({
      path: file,
      compression: false,
      sharedStructuresKey: Symbol.for('structures'),
    });
    const { lastPageNumber, pageSize } = this.db.getStats() as Record<string, number>;
    const needed = (lastPageNumber! + 1) * pageSize!;
    const size = statSync(file).size;
    if (size < needed) {
      void this.db.close();
      throw truncatedStore(file, size, needed);
    }
  }

  async writeLists(
    tenantId: string,
    version: string,
    algorithm: string,
    lists: RelatedList[],
  ): Promise<void> {
    await this.writeVersion(tenantId, version, () => {
      for (const list of lists)
        this.db.put(['l', tenantId, version, algorithm, list.postId], stored(list.items));
    });
  }

  async writePopular(tenantId: string, version: string, items: ScoredItem[]): Promise<void> {
    await this.writeVersion(tenantId, version, () =>
      this.db.put(['p', tenantId, version], stored(items)),
    );
  }

  /** Writes into a version that was never activated, in one transaction with the check. */
  private async writeVersion(tenantId: string, version: string, writes: () => void): Promise<void> {
    checkVersion(version);
    await this.put(() => {
      const marker = this.readMarker(tenantId, version);
      if (wasActivated(marker)) throw new ImmutableVersionError(tenantId, version);
      this.db.put(['v', tenantId, version], { ...marker, writtenAt: new Date().toISOString() });
      writes();
    });
  }

  private readMarker(tenantId: string, version: string): Omit<VersionInfo, 'version'> | undefined {
    const marker = this.db.get(['v', tenantId, version]) as
      (Omit<VersionInfo, 'version'> & { createdAt?: string }) | undefined;
    if (!marker) return undefined;
    const { createdAt, ...info } = marker;
    return { writtenAt: createdAt, ...info };
  }

  private async put(writes: () => void): Promise<void> {
    try {
      await this.db.transaction(writes);
    } catch (error) {
      if (error instanceof ImmutableVersionError) throw error;
      throw new BackendError(`LMDB write failed: ${(error as Error).message}`);
    }
  }

  async activate(
    tenantId: string,
    info: Omit<ActiveVersion, 'previous'>,
    keepVersions: number,
    guard: ActivationGuard = {},
  ): Promise<ActiveVersion> {
    checkVersion(info.version);
    let written: ActiveVersion | undefined;
    // LMDB has one writer at a time: what is read here holds until the transaction commits.
    await this.db.transaction(() => {
      const marker = this.readMarker(tenantId, info.version);
      const current = this.readActive(tenantId);
      const refused = refusedActivation(tenantId, info.version, current, marker, guard);
      if (refused) throw refused;
      if (!marker) throw noDataError(tenantId, info.version);
      const now = new Date().toISOString();
      written = nextActive(current, info, keepVersions);
      this.db.put(['a', tenantId], written);
      this.db.put(['v', tenantId, info.version], {
        ...marker,
        activatedAt: marker.activatedAt ?? now,
      });
      const replaced = current && current.version !== info.version ? current.version : undefined;
      const replacedMarker = replaced && this.readMarker(tenantId, replaced);
      if (replacedMarker)
        this.db.put(['v', tenantId, replaced], { ...replacedMarker, supersededAt: now });
    });
    return written!;
  }

  private readActive(tenantId: string): ActiveVersion | null {
    return (this.db.get(['a', tenantId]) as ActiveVersion | undefined) ?? null;
  }

  async getActive(tenantId: string): Promise<ActiveVersion | null> {
    return this.readActive(tenantId);
  }

  getListAtNow(
    tenantId: string,
    version: string,
    algorithm: string,
    postId: string,
  ): ServedItem[] | null {
    return (this.db.get(['l', tenantId, version, algorithm, postId]) as ServedItem[]) ?? null;
  }

  getPopularAtNow(tenantId: string, version: string): ServedItem[] | null {
    return (this.db.get(['p', tenantId, version]) as ServedItem[]) ?? null;
  }

  async getListAt(
    tenantId: string,
    version: string,
    algorithm: string,
    postId: string,
  ): Promise<ScoredItem[] | null> {
    return scored(this.getListAtNow(tenantId, version, algorithm, postId));
  }

  async getPopularAt(tenantId: string, version: string): Promise<ScoredItem[] | null> {
    return scored(this.getPopularAtNow(tenantId, version));
  }

  async listVersions(tenantId: string): Promise<VersionInfo[]> {
    const versions: VersionInfo[] = [];
    for (const key of this.db.getKeys({ start: ['v', tenantId], end: ['v', tenantId + END] })) {
      const version = String((key as unknown[])[2]);
      versions.push({ version, ...this.readMarker(tenantId, version) });
    }
    return versions.sort((a, b) => (a.version < b.version ? -1 : 1));
  }

  /** One transaction: a crash leaves the whole version or none of it. */
  async deleteVersion(tenantId: string, version: string): Promise<void> {
    await this.db.transaction(() => {
      this.removeRange(['l', tenantId, version], ['l', tenantId, version + END]);
      this.db.remove(['p', tenantId, version]);
      this.db.remove(['v', tenantId, version]);
    });
  }

  /** Inside a transaction; the keys are collected first, as removing moves the cursor. */
  private removeRange(start: Key, end: Key): void {
    for (const key of [...this.db.getKeys({ start, end })]) this.db.remove(key);
  }

  async setHidden(tenantId: string, postIds: string[], hidden: boolean): Promise<void> {
    await this.put(() => {
      for (const postId of postIds) {
        if (hidden) this.db.put(['h', tenantId, postId], true);
        else this.db.remove(['h', tenantId, postId]);
      }
    });
  }

  async getHidden(tenantId: string): Promise<string[]> {
    const hidden: string[] = [];
    for (const key of this.db.getKeys({ start: ['h', tenantId], end: ['h', tenantId + END] })) {
      hidden.push(String((key as unknown[])[2]));
    }
    return hidden;
  }

  async listTenants(): Promise<string[]> {
    const tenants: string[] = [];
    for (const key of this.db.getKeys({ start: ['a'], end: ['a' + END] })) {
      tenants.push(String((key as unknown[])[1]));
    }
    return tenants;
  }

  async purgeTenant(tenantId: string): Promise<void> {
    // The pointer goes first, so readers stop seeing the tenant before its data is removed.
    await this.db.remove(['a', tenantId]);
    await this.db.transaction(() => {
      for (const prefix of ['l', 'p', 'v', 'h'])
        this.removeRange([prefix, tenantId], [prefix, tenantId + END]);
    });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
