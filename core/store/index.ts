import type { StoreConfig } from '../config.js';
import { FirestoreStore } from './firestore.js';
import { LmdbStore } from './lmdb.js';
import type { RecommendationStore } from './types.js';

export * from './types.js';

export function openStore(config: StoreConfig): RecommendationStore {
  return config.kind === 'lmdb' ? new LmdbStore(config.path) : new FirestoreStore(config);
}
