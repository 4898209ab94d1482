import { setTimeout as sleep } from 'node:timers/promises';
import {
  Firestore,
  type CollectionReference,
  type DocumentReference,
} from '@google-cloud/firestore';
import { GoogleCredentials } from '../google-credentials.js';
import { decodeIdFromFirestore, encodeIdForFirestore } from '../ids.js';
import { BackendError, ConfigError, errorMessage } from '../errors.js';
import { log } from '../log.js';
import { probeAddress } from '../net.js';
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
} from './types.js';

/**
 * The production store. Layout (ids percent-encoded, Firestore forbids '/'):
 *   {root}/{tenant}                                  { tenantId, active }
 *   {root}/{tenant}/versions/{version}               VersionInfo without the id (older: { createdAt })
 *   {root}/{tenant}/versions/{version}/lists/{algorithm}~{postId}   { postId, items }
 *   {root}/{tenant}/versions/{version}/lists/_popular                { items }
 *   {root}/{tenant}/hidden/{postId}                  { postId }
 * Encoded post ids never start with '_', so `_popular` cannot collide with a list.
 */
export interface FirestoreStoreOptions {
  projectId: string;
  databaseId: string;
  collection: string;
  /** How long `activate` retries a transaction that Firestore aborts (default: ACTIVATE_RETRY_SECONDS). */
  activateRetrySeconds?: number;
}

/**
 * A client killed inside `activate`'s transaction cannot roll it back: Firestore keeps the
 * documents it read locked until it expires the idle transaction ("Transactions time out after
 * 60 seconds if no documents are read... Any remaining locks are released when a transaction
 * times out": runTransaction's documentation; on the emulator a transaction left idle after a read
 * held its lock 59 s, and re-runs after kills inside activate waited 64-79 s, start-up included).
 * Meanwhile every transaction on that tenant ends in ABORTED "Transaction lock timeout" (the
 * emulator gives up waiting after 2 s), and the client's own retries (5 attempts) span about
 * 18 s. Activation keeps retrying for longer than the expiry, so that a re-run after a crash
 * succeeds instead of failing until the lock is gone.
 */
const ACTIVATE_RETRY_SECONDS = 90;
const GRPC_ABORTED = 10;

/** Google Cloud's own universe, the client's default (others are sovereign clouds). */
const GOOGLE_UNIVERSE = 'googleapis.com';

/** The client's port, where FIRESTORE_EMULATOR_HOST names none. */
const FIRESTORE_PORT = 443;

/**
 * How long `close` waits for the client to terminate. terminate() waits for every call in flight,
 * and a read the API stopped waiting for (api.storeTimeoutMs, the readiness probe) is retried by
 * the client until its own deadline while Firestore does not answer: closing then took about
 * 60 s, where Cloud Run kills the container 10 s after SIGTERM, and Ctrl-C waited a minute. A
 * reachable Firestore ends its calls well within 5 s, which leaves the rest of Cloud Run's 10 s
 * to the requests and logs the API drains before it closes the store (api/server.ts).
 */
const CLOSE_SECONDS = 5;

interface TenantDoc {
  tenantId: string;
  active?: ActiveVersion;
}

export class FirestoreStore extends ActiveVersionReads implements RecommendationStore {
  readonly db: Firestore;
  private readonly root: CollectionReference;
  private readonly activateRetrySeconds: number;
  /** The emulator (FIRESTORE_EMULATOR_HOST) takes no credentials: nothing to look for there. */
  private readonly credentials: GoogleCredentials | undefined;
  private readonly emulatorHost: string | undefined;
  private readonly projectId: string;
  /** The emulator's probe once it answered; a failure is not kept (see emulatorListens). */
  private emulatorFound: Promise<void> | undefined;

  constructor(options: FirestoreStoreOptions) {
    super();
    // Read as the client reads it, once, when it is constructed.
    this.emulatorHost = process.env.FIRESTORE_EMULATOR_HOST || undefined;
    this.projectId = options.projectId;
    this.credentials = this.emulatorHost
      ? undefined
      : new GoogleCredentials(
          'Firestore',
          options.projectId,
          'for the Firestore emulator, set FIRESTORE_EMULATOR_HOST',
        );
    this.db = new Firestore({
      projectId: options.projectId,
      databaseId: options.databaseId,
      preferRest: false,
      // Named, the universe is not asked of the credentials: on the emulator, which takes none,
      // that search pinged a metadata server and warned on a laptop (MetadataLookupWarning).
      ...(this.emulatorHost && { universeDomain: GOOGLE_UNIVERSE }),
    });
    this.root = this.db.collection(options.collection);
    this.activateRetrySeconds = options.activateRetrySeconds ?? ACTIVATE_RETRY_SECONDS;
  }

  /**
   * Every method that calls Firestore awaits this first: the credentials
   * (core/google-credentials.ts), or on the emulator, that it listens.
   */
  private async ready(): Promise<void> {
    await (this.emulatorHost
      ? this.emulatorListens(this.emulatorHost)
      : this.credentials?.require());
  }

  /**
   * An emulator address where nothing listens is otherwise retried by the client for about 45 s,
   * then fails as gRPC's bare "14 UNAVAILABLE: No connection established". Only the emulator is
   * probed: a real Firestore's slow first connection is left to the client's own deadline. Found
   * once, it is not probed again; a failure is not kept, so that a running API becomes ready once
   * the emulator is started, without a restart.
   */
  private async emulatorListens(host: string): Promise<void> {
    this.emulatorFound ??= probeAddress(host, FIRESTORE_PORT).then((unreachable) => {
      if (unreachable === null) return;
      this.emulatorFound = undefined;
      throw new ConfigError(
        `Cannot reach the Firestore emulator at ${host} (FIRESTORE_EMULATOR_HOST): ${unreachable}. ` +
          `Start it there (gcloud emulators firestore start --host-port=${host}), or correct FIRESTORE_EMULATOR_HOST, or unset it to use Firestore itself (project ${this.projectId}).`,
      );
    });
    await this.emulatorFound;
  }

  private tenantDoc(tenantId: string): DocumentReference {
    return this.root.doc(encodeIdForFirestore(tenantId));
  }

  private versionDoc(tenantId: string, version: string): DocumentReference {
    return this.tenantDoc(tenantId).collection('versions').doc(checkVersion(version));
  }

  private listDoc(tenantId: string, version: string, docId: string): DocumentReference {
    return this.versionDoc(tenantId, version).collection('lists').doc(docId);
  }

  private static listId(algorithm: string, postId: string): string {
    return `${algorithm}~${encodeIdForFirestore(postId)}`;
  }

  async writeLists(
    tenantId: string,
    version: string,
    algorithm: string,
    lists: RelatedList[],
  ): Promise<void> {
    await this.markWritten(tenantId, version);
    const writer = this.db.bulkWriter({ throttling: false });
    const failures: string[] = [];
    writer.onWriteError((error) => {
      if (error.failedAttempts < 5) return true;
      failures.push(error.message);
      return false;
    });
    for (const list of lists) {
      void writer.set(
        this.listDoc(tenantId, version, FirestoreStore.listId(algorithm, list.postId)),
        {
          postId: list.postId,
          items: list.items,
        },
      );
    }
    await writer.close();
    if (failures.length > 0) {
      throw new BackendError(
        `Firestore rejected ${failures.length} list writes (first: ${failures[0]}); the run can be retried.`,
      );
    }
  }

  async writePopular(tenantId: string, version: string, items: ScoredItem[]): Promise<void> {
    await this.markWritten(tenantId, version);
    await this.listDoc(tenantId, version, '_popular').set({ items });
  }

  /**
   * Refuses writes into an activated version, and stamps the marker before any list is written:
   * a version being written always has a marker, so collection never takes it for debris.
   * (Activation follows the last write of the same run, so the check cannot race it.)
   */
  private async markWritten(tenantId: string, version: string): Promise<void> {
    await this.ready();
    const ref = this.versionDoc(tenantId, version);
    if (wasActivated(FirestoreStore.info(version, (await ref.get()).data())))
      throw new ImmutableVersionError(tenantId, version);
    await ref.set({ writtenAt: new Date().toISOString() }, { merge: true });
  }

  private static info(version: string, data: Record<string, unknown> | undefined): VersionInfo {
    const { createdAt, ...rest } = (data ?? {}) as Omit<VersionInfo, 'version'> & {
      createdAt?: string;
    };
    return { version, writtenAt: createdAt, ...rest };
  }

  async activate(
    tenantId: string,
    info: Omit<ActiveVersion, 'previous'>,
    keepVersions: number,
    guard: ActivationGuard = {},
  ): Promise<ActiveVersion> {
    await this.ready();
    const ref = this.tenantDoc(tenantId);
    const versionRef = this.versionDoc(tenantId, info.version);
    return this.retryAborted(tenantId, info.version, () =>
      // The documents read in the transaction stay locked until it commits: the guard is
      // checked against the pointer that is replaced. A refusal thrown here writes nothing.
      this.db.runTransaction(async (tx) => {
        const current = ((await tx.get(ref)).data() as TenantDoc | undefined)?.active ?? null;
        const marker = await tx.get(versionRef);
        const markerInfo = marker.exists
          ? FirestoreStore.info(info.version, marker.data())
          : undefined;
        const refused = refusedActivation(tenantId, info.version, current, markerInfo, guard);
        if (refused) throw refused;
        if (!marker.exists) throw noDataError(tenantId, info.version);
        const replaced = current && current.version !== info.version ? current.version : undefined;
        const replacedRef = replaced ? this.versionDoc(tenantId, replaced) : undefined;
        const replacedExists = replacedRef ? (await tx.get(replacedRef)).exists : false;
        const now = new Date().toISOString();
        const active = nextActive(current, info, keepVersions);
        tx.set(ref, { tenantId, active });
        tx.set(versionRef, { activatedAt: marker.get('activatedAt') ?? now }, { merge: true });
        if (replacedRef && replacedExists)
          tx.set(replacedRef, { supersededAt: now }, { merge: true });
        return active;
      }),
    );
  }

  /** `transaction` again, with backoff, while Firestore aborts it, for at most activateRetrySeconds. */
  private async retryAborted<T>(
    tenantId: string,
    version: string,
    transaction: () => Promise<T>,
  ): Promise<T> {
    const seconds = this.activateRetrySeconds;
    const deadline = Date.now() + seconds * 1000;
    for (let delayMs = 500; ; delayMs = Math.min(delayMs * 2, 8_000)) {
      try {
        return await transaction();
      } catch (error) {
        if ((error as { code?: unknown }).code !== GRPC_ABORTED) throw error;
        if (Date.now() + delayMs > deadline)
          throw new BackendError(
            `Activating version ${version} of tenant ${tenantId}: Firestore aborted the transaction for ${seconds} s (${errorMessage(error)}). ` +
              'Another transaction holds the tenant document: a run killed inside activate leaves its lock until Firestore expires it (about a minute). ' +
              `The tenant still serves its previous version; re-run the batch with --run-id ${version} once no other run of this tenant is active.`,
            { cause: error },
          );
        await sleep(delayMs);
      }
    }
  }

  async getActive(tenantId: string): Promise<ActiveVersion | null> {
    await this.ready();
    const doc = (await this.tenantDoc(tenantId).get()).data() as TenantDoc | undefined;
    return doc?.active ?? null;
  }

  private async readListDoc(
    tenantId: string,
    version: string,
    docId: string,
  ): Promise<ScoredItem[] | null> {
    await this.ready();
    const snap = await this.listDoc(tenantId, version, docId).get();
    return (snap.get('items') as ScoredItem[] | undefined) ?? null;
  }

  async getListAt(
    tenantId: string,
    version: string,
    algorithm: string,
    postId: string,
  ): Promise<ScoredItem[] | null> {
    return this.readListDoc(tenantId, version, FirestoreStore.listId(algorithm, postId));
  }

  async getPopularAt(tenantId: string, version: string): Promise<ScoredItem[] | null> {
    return this.readListDoc(tenantId, version, '_popular');
  }

  /** Includes versions whose marker is gone (a delete that crashed halfway): they have no times. */
  async listVersions(tenantId: string): Promise<VersionInfo[]> {
    await this.ready();
    const refs = await this.tenantDoc(tenantId).collection('versions').listDocuments();
    const snaps = refs.length > 0 ? await this.db.getAll(...refs) : [];
    return snaps
      .map((snap) => FirestoreStore.info(snap.id, snap.data()))
      .sort((a, b) => (a.version < b.version ? -1 : 1));
  }

  async deleteVersion(tenantId: string, version: string): Promise<void> {
    await this.deleteTree(this.versionDoc(tenantId, version));
  }

  /** recursiveDelete with a writer of our own, closed after: the client refuses to terminate otherwise. */
  private async deleteTree(ref: DocumentReference): Promise<void> {
    await this.ready();
    const writer = this.db.bulkWriter({ throttling: false });
    await this.db.recursiveDelete(ref, writer);
    await writer.close();
  }

  async setHidden(tenantId: string, postIds: string[], hidden: boolean): Promise<void> {
    await this.ready();
    const writer = this.db.bulkWriter({ throttling: false });
    const hiddenPosts = this.tenantDoc(tenantId).collection('hidden');
    for (const postId of postIds) {
      const ref = hiddenPosts.doc(encodeIdForFirestore(postId));
      void (hidden ? writer.set(ref, { postId }) : writer.delete(ref));
    }
    await writer.close();
  }

  async getHidden(tenantId: string): Promise<string[]> {
    await this.ready();
    const snap = await this.tenantDoc(tenantId).collection('hidden').get();
    return snap.docs.map((d) => d.get('postId') as string);
  }

  async listTenants(): Promise<string[]> {
    await this.ready();
    const snap = await this.root.where('active.version', '!=', null).select('tenantId').get();
    return snap.docs.map(
      (d) => (d.get('tenantId') as string | undefined) ?? decodeIdFromFirestore(d.id),
    );
  }

  async purgeTenant(tenantId: string): Promise<void> {
    await this.ready();
    const ref = this.tenantDoc(tenantId);
    // Drop the pointer first so that readers stop seeing the tenant before its lists go.
    await ref.set({ tenantId }, { merge: false });
    await this.deleteTree(ref);
  }

  async close(): Promise<void> {
    const terminated = await Promise.race([
      this.db.terminate().then(() => true),
      // Unreferenced: a close that ends in time leaves nothing to keep the process alive.
      sleep(CLOSE_SECONDS * 1000, false, { ref: false }),
    ]);
    if (!terminated)
      log.warn(
        `Firestore did not close within ${CLOSE_SECONDS} s: calls to it are still being retried, as it does not answer; stopped waiting for them. Check that Firestore is reachable from here (network and credentials, or FIRESTORE_EMULATOR_HOST for the emulator).`,
      );
  }
}
