import { z } from 'zod';
import { BackendError, BadDataError } from '../errors.js';

/**
 * The serving store's contract, shared by the batch side (writes) and the API (reads).
 * Lists are written under a new version; one small write (`activate`) makes a version visible.
 * Readers only ever follow the active pointer, so a run that is writing, or that crashed halfway,
 * is never seen.
 */
export interface ScoredItem {
  postId: string;
  score: number;
}

/** A number as JSON writes it (`JSON.stringify(value)`: the number, or null when not finite). */
export function numberJson(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * An item as a synchronous read returns it: with its score already as JSON text where the store
 * keeps it (LMDB lists written since 2026-11-30), so that the API, which only ever writes scores
 * out, need not format the number on every request (about 9 µs of a related request under load,
 * BENCHMARKS.md). Lists written before have no `scoreJson` and are served the same.
 */
export interface ServedItem extends ScoredItem {
  /** Exactly `numberJson(score)`. */
  scoreJson?: string;
}

export interface RelatedList {
  postId: string;
  items: ScoredItem[];
}

export interface ActiveVersion {
  version: string;
  activatedAt: string;
  /** Algorithms that have lists in this version (e.g. "embedding", "popular"). */
  algorithms: string[];
  lists: number;
  /** Recently active versions, newest first: kept by garbage collection for in-flight readers. */
  previous: string[];
}

/**
 * What a store knows of one version besides its lists (times are ISO strings from the batch's
 * clock). `writtenAt` moves with every write; `activatedAt` is set by the first activation and
 * makes the version immutable; `supersededAt` is when another version replaced it as the active
 * one, i.e. when API instances started to drop their cached pointers to it.
 */
export interface VersionInfo {
  version: string;
  writtenAt?: string;
  activatedAt?: string;
  supersededAt?: string;
}

/**
 * What must still hold when `activate` writes the pointer. It is checked inside the store's
 * transaction, not by the caller beforehand: another activation of the tenant between a run's
 * decision to activate and the write (a nightly run finishing while start-test computed, a
 * retried step) cannot slip through, and the check costs no read of its own.
 */
export interface ActivationGuard {
  /**
   * The active version the new one was built on (start-test carries its lists and snapshot
   * over), or that a rollback was planned from: refused when another one is active, as the new
   * one holds older data, or the rollback would undo an activation nobody saw.
   */
  replaces?: string;
  /**
   * Set by rollback only (scripts/rollback.ts), the one way back to an older version. Without it
   * a version activated before and replaced since is refused: the activate step of its run, run
   * again by a Temporal retry or a Reset in the UI, would bring back older lists.
   */
  reactivate?: boolean;
}

export interface ServedList {
  version: string;
  items: ScoredItem[];
}

export interface RecommendationStore {
  /** Throws ImmutableVersionError when `version` was activated: a live version never changes. */
  writeLists(
    tenantId: string,
    version: string,
    algorithm: string,
    lists: RelatedList[],
  ): Promise<void>;
  writePopular(tenantId: string, version: string, items: ScoredItem[]): Promise<void>;
  /**
   * Atomically points the tenant at `version`, marks it activated and the version it replaces
   * superseded; returns the pointer that was written. Throws BackendError when the version has
   * no data (never written, or collected meanwhile). The `guard` is checked in the same
   * transaction, against the pointer it replaces: a refused activation (BadDataError, see
   * ActivationGuard) writes nothing. Activating the version that is active already goes ahead
   * (a retry of the step that activated it).
   */
  activate(
    tenantId: string,
    info: Omit<ActiveVersion, 'previous'>,
    keepVersions: number,
    guard?: ActivationGuard,
  ): Promise<ActiveVersion>;
  getActive(tenantId: string): Promise<ActiveVersion | null>;
  /** A post's list in the active version (reads the pointer, then the list). */
  getList(tenantId: string, algorithm: string, postId: string): Promise<ServedList | null>;
  getPopular(tenantId: string): Promise<ServedList | null>;
  /**
   * The same, in a given version: one read. The API keeps the active pointer for a few seconds
   * and reads lists with these (a version stays readable until garbage-collected).
   */
  getListAt(
    tenantId: string,
    version: string,
    algorithm: string,
    postId: string,
  ): Promise<ScoredItem[] | null>;
  getPopularAt(tenantId: string, version: string): Promise<ScoredItem[] | null>;
  /** The same two reads without waiting, on stores that have them (LMDB's memory map). */
  readonly now?: SyncListReads;
  /** Versions that have data, active or not, sorted by id. */
  listVersions(tenantId: string): Promise<VersionInfo[]>;
  deleteVersion(tenantId: string, version: string): Promise<void>;
  /**
   * Posts hidden or deleted since the last batch: the API removes them from every list at once.
   * Independent of versions; a purge removes them too.
   */
  setHidden(tenantId: string, postIds: string[], hidden: boolean): Promise<void>;
  getHidden(tenantId: string): Promise<string[]>;
  /** Tenants with an active version. */
  listTenants(): Promise<string[]>;
  /** Removes everything of a tenant: what the API serves for it disappears at once. */
  purgeTenant(tenantId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Reads that return at once: the API's fast path answers from them without yielding to the
 * event loop. Stores whose reads are round trips (Firestore) do not offer them.
 */
export interface SyncListReads {
  getListAtNow(
    tenantId: string,
    version: string,
    algorithm: string,
    postId: string,
  ): ServedItem[] | null;
  getPopularAtNow(tenantId: string, version: string): ServedItem[] | null;
}

/** A list read from the active version, labelled with that version; null when there is none. */
export async function inActiveVersion(
  active: Pick<ActiveVersion, 'version'> | null,
  read: (version: string) => Promise<ScoredItem[] | null>,
): Promise<ServedList | null> {
  if (!active) return null;
  const items = await read(active.version);
  return items ? { version: active.version, items } : null;
}

/** The active-version reads every store shares: the pointer, then the list in that version. */
export abstract class ActiveVersionReads {
  abstract getActive(tenantId: string): Promise<ActiveVersion | null>;
  abstract getListAt(
    tenantId: string,
    version: string,
    algorithm: string,
    postId: string,
  ): Promise<ScoredItem[] | null>;
  abstract getPopularAt(tenantId: string, version: string): Promise<ScoredItem[] | null>;

  async getList(tenantId: string, algorithm: string, postId: string): Promise<ServedList | null> {
    return inActiveVersion(await this.getActive(tenantId), (v) =>
      this.getListAt(tenantId, v, algorithm, postId),
    );
  }

  async getPopular(tenantId: string): Promise<ServedList | null> {
    return inActiveVersion(await this.getActive(tenantId), (v) => this.getPopularAt(tenantId, v));
  }
}

/** Versions are run ids: sortable, and safe as store keys and document ids. */
export const versionSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/);

export function checkVersion(version: string): string {
  if (!versionSchema.safeParse(version).success) {
    throw new BadDataError(
      `Invalid version ${JSON.stringify(version)}: use letters, digits and dashes (max 64).`,
    );
  }
  return version;
}

/** A write into a version that was activated: versions are immutable once served. */
export class ImmutableVersionError extends BadDataError {
  constructor(tenantId: string, version: string) {
    super(
      `Version ${version} of tenant ${JSON.stringify(tenantId)} was activated and is immutable: re-running it changes nothing; run with a new run id to serve new data.`,
    );
  }
}

/** A version that was activated at some time (versions written before markers had times count by supersededAt). */
export function wasActivated(
  info: Pick<VersionInfo, 'activatedAt' | 'supersededAt'> | undefined,
): boolean {
  return info?.activatedAt !== undefined || info?.supersededAt !== undefined;
}

export function noDataError(tenantId: string, version: string): BackendError {
  return new BackendError(
    `Version ${version} of tenant ${JSON.stringify(tenantId)} has no data to activate (never written, or collected as abandoned); re-run the tenant.`,
  );
}

/**
 * Why `activate` refuses to replace `current` with `version` under `guard` (the error to throw
 * inside its transaction), or undefined when it goes ahead. `marker` is the version's own.
 */
export function refusedActivation(
  tenantId: string,
  version: string,
  current: Pick<ActiveVersion, 'version'> | null,
  marker: Pick<VersionInfo, 'activatedAt' | 'supersededAt'> | undefined,
  guard: ActivationGuard,
): BadDataError | undefined {
  const active = current?.version;
  if (active === version) return undefined;
  const tenant = JSON.stringify(tenantId);
  if (guard.replaces !== undefined && active !== guard.replaces)
    return new BadDataError(
      guard.reactivate
        ? `Tenant ${tenant} was to roll back from ${guard.replaces} to ${version}, but ${active ?? 'none'} became active meanwhile: it is not rolled back, as that would undo ${active ?? 'none'} unseen. Run osusume rollback --tenant ${tenantId} again: it plans from the active version.`
        : `Version ${version} of tenant ${tenant} was built on version ${guard.replaces}, but ${active ?? 'none'} became active meanwhile: it is not activated, as it would serve older data. Run start-test again for this tenant: it starts from the active version.`,
    );
  if (!guard.reactivate && wasActivated(marker))
    return new BadDataError(
      `Version ${version} of tenant ${tenant} was activated before and has been replaced by ${active ?? 'none'}: a re-run of it (a Temporal retry or Reset) does not serve it again. To serve it again: osusume rollback --tenant ${tenantId} --to ${version}; to serve new data, run with a new run id.`,
    );
  return undefined;
}

/** The pointer after activating `version`: the previous pointer's history, trimmed. */
export function nextActive(
  current: ActiveVersion | null,
  info: Omit<ActiveVersion, 'previous'>,
  keepVersions: number,
): ActiveVersion {
  const history = current ? [current.version, ...current.previous] : [];
  const previous = history.filter((v) => v !== info.version).slice(0, keepVersions - 1);
  return { ...info, previous };
}

/** How long versions outside the pointer are kept (pipeline.*GraceSeconds in the config). */
export interface CollectionGrace {
  /** After a version stopped being the active one: longer than any API caches a pointer. */
  supersededMs: number;
  /** After the last write to a version that was never activated: longer than any run writes. */
  abandonedMs: number;
}

/**
 * Versions to delete once `active` is in place: neither active nor among the kept previous
 * versions, and unreachable: superseded longer ago than any API instance keeps a pointer, or
 * never activated and not written to for longer than a run takes. Ids are not compared, so a
 * clock that ran ahead or a mix of id formats leaves nothing behind.
 */
function versionsToCollect(
  versions: VersionInfo[],
  active: ActiveVersion,
  now: number,
  grace: CollectionGrace,
): string[] {
  const keep = new Set([active.version, ...active.previous]);
  const olderThan = (at: string | undefined, ms: number) =>
    at === undefined || Date.parse(at) <= now - ms;
  return versions
    .filter((v) => !keep.has(v.version))
    .filter((v) =>
      wasActivated(v)
        ? olderThan(v.supersededAt ?? v.activatedAt, grace.supersededMs)
        : olderThan(v.writtenAt, grace.abandonedMs),
    )
    .map((v) => v.version);
}

/** Deletes the versions of a tenant that no reader can reach any more; returns them. */
export async function collectGarbage(
  store: RecommendationStore,
  tenantId: string,
  active: ActiveVersion,
  grace: CollectionGrace,
  now = Date.now(),
): Promise<string[]> {
  const doomed = versionsToCollect(await store.listVersions(tenantId), active, now, grace);
  for (const v of doomed) await store.deleteVersion(tenantId, v);
  return doomed;
}

/**
 * The ids among `postIds` that the tenant's active version serves nothing for: no list of their
 * own under any of its algorithms, and not in its popular list (every post the batch saw has a
 * list). All of them when the tenant has no active version.
 */
export async function unservedPosts(
  store: RecommendationStore,
  tenantId: string,
  postIds: readonly string[],
  active?: ActiveVersion | null,
): Promise<string[]> {
  const pointer = active === undefined ? await store.getActive(tenantId) : active;
  if (!pointer) return [...postIds];
  const { version, algorithms } = pointer;
  const popular = new Set((await store.getPopularAt(tenantId, version))?.map((i) => i.postId));
  const served = async (postId: string) => {
    if (popular.has(postId)) return true;
    for (const algorithm of algorithms)
      if (await store.getListAt(tenantId, version, algorithm, postId)) return true;
    return false;
  };
  const verdicts = await Promise.all(postIds.map(served));
  return postIds.filter((_, i) => !verdicts[i]);
}
