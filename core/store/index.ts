import { existsSync } from 'node:fs';
import type { StoreConfig } from '../config.js';
import { FirestoreStore } from './firestore.js';
import { LmdbStore } from './lmdb.js';
import type { RecommendationStore } from './types.js';

export * from './types.js';

export function openStore(config: StoreConfig): RecommendationStore {
  return config.kind === 'lmdb' ? new LmdbStore(config.path) : new FirestoreStore(config);
}

/**
 * Says that the local store does not exist, or null. LMDB creates a missing file when it opens it:
 * a command that only reads the store checks first, so that a mistyped path is named instead of
 * leaving an empty store behind that reads as "nothing served".
 */
export function missingStore(config: StoreConfig): string | null {
  return config.kind === 'lmdb' && !existsSync(config.path)
    ? `No store at ${config.path}: the batch creates it (osusume batch), or point the configuration (osusume.config.yaml, OSUSUME_CONFIG) at the right store.`
    : null;
}
