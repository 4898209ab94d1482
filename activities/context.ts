import {
  LocalArtifactStore,
  runArtifact,
  writeJsonLines,
  type ArtifactStore,
} from '../core/artifacts.js';
import type { Config } from '../core/config.js';
import { openStore, type RecommendationStore, type RelatedList } from '../core/store/index.js';
import { openWarehouse, type Warehouse } from '../core/warehouse/index.js';
import { EmbeddingModel } from './embedder.js';

/**
 * What the steps need, opened once per worker process. The embedding model loads lazily:
 * a run where every tenant is small never pays for it.
 */
export interface StepContext {
  config: Config;
  warehouse: Warehouse;
  store: RecommendationStore;
  artifacts: ArtifactStore;
  model(): Promise<EmbeddingModel>;
  close(): Promise<void>;
}

export async function openContext(config: Config): Promise<StepContext> {
  const warehouse = await openWarehouse(config.warehouse);
  const store = openStore(config.store);
  const artifacts = new LocalArtifactStore(config.artifactsDir);
  let model: Promise<EmbeddingModel> | undefined;
  return {
    config,
    warehouse,
    store,
    artifacts,
    model: () => (model ??= EmbeddingModel.load(config.model)),
    close: async () => {
      if (model) await (await model.catch(() => undefined))?.release();
      await store.close();
      await warehouse.close();
    },
  };
}

/** Scores are stored to four decimals: enough to order a list, and the lists stay small. */
export function storedScore(score: number): number {
  return Math.round(score * 1e4) / 1e4;
}

/** The k best of scored posts with stored scores, best first, ties by post id (every list's order). */
export function topItems(scores: Iterable<[string, number]>, k: number): RelatedList['items'] {
  return [...scores]
    .map(([postId, score]) => ({ postId, score: storedScore(score) }))
    .sort((p, q) => q.score - p.score || (p.postId < q.postId ? -1 : 1))
    .slice(0, k);
}

/** Writes one algorithm's lists of a tenant's run as an artifact (lists-<algorithm>.jsonl). */
export async function saveLists(
  ctx: Pick<StepContext, 'artifacts'>,
  input: { runId: string; tenantId: string },
  algorithm: string,
  lists: RelatedList[],
): Promise<{ listsUri: string; lists: number }> {
  const listsUri = runArtifact(
    ctx.artifacts,
    input.runId,
    input.tenantId,
    `lists-${algorithm}.jsonl`,
  );
  await writeJsonLines(ctx.artifacts, listsUri, lists);
  return { listsUri, lists: lists.length };
}
