import { parseTenantId } from '../core/ids.js';
import { checkVersion } from '../core/store/types.js';
import type { StepContext } from './context.js';
import { embedPosts, type EmbedProgress } from './embed.js';
import { extractPosts, type ExtractResult } from './extract.js';
import { computeNeighbours } from './neighbours.js';
import { computePopular } from './popular.js';
import { activateVersion, storeLists, storePopular } from './publish.js';

/**
 * One tenant's run, in process: extract -> embed -> neighbours -> store -> activate. The Temporal
 * tenant workflow calls the same step functions as activities; this is the path for the local
 * batch command and for tests.
 */
export type Step = 'extract' | 'embed' | 'neighbours' | 'popular' | 'store' | 'activate';

export interface TenantProgress {
  step: Step;
  done?: number;
  total?: number;
}

export interface TenantReport {
  tenantId: string;
  version: string;
  mode: 'embedding' | 'popular';
  extract: ExtractResult;
  embedded?: { computed: number; reused: number; modelId: string };
  neighbourSearch?: 'exact' | 'ivf';
  duplicates: number;
  lists: number;
  interactions: number;
  collectedVersions: string[];
  seconds: Partial<Record<Step, number>>;
}

export async function runTenant(
  ctx: StepContext,
  input: { tenantId: string; runId: string },
  onProgress: (p: TenantProgress) => void = () => {},
): Promise<TenantReport> {
  const tenantId = parseTenantId(input.tenantId);
  const version = checkVersion(input.runId);
  const seconds: TenantReport['seconds'] = {};
  const timed = async <T>(step: Step, work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    onProgress({ step });
    const result = await work();
    seconds[step] = Math.round(performance.now() - start) / 1000;
    return result;
  };

  const extract = await timed('extract', () => extractPosts(ctx, { tenantId, runId: version }));
  const small = extract.posts < ctx.config.pipeline.minPostsForEmbedding;
  const popular = await timed('popular', () =>
    computePopular(ctx, {
      tenantId,
      runId: version,
      snapshotUri: extract.snapshotUri,
      perPostLists: small,
    }),
  );

  let report: Pick<TenantReport, 'mode' | 'embedded' | 'neighbourSearch' | 'duplicates'>;
  let listsUri: string;
  let embeddingsUri: string | undefined;
  if (small) {
    report = { mode: 'popular', duplicates: 0 };
    listsUri = popular.listsUri!;
  } else {
    const embedded = await timed('embed', () =>
      embedPosts(
        ctx,
        {
          tenantId,
          runId: version,
          snapshotUri: extract.snapshotUri,
          previousEmbeddingsUri: extract.previousEmbeddingsUri,
        },
        (p: EmbedProgress) => onProgress({ step: 'embed', done: p.done, total: p.total }),
      ),
    );
    embeddingsUri = embedded.embeddingsUri;
    const neighbours = await timed('neighbours', () =>
      computeNeighbours(
        ctx,
        {
          tenantId,
          runId: version,
          snapshotUri: extract.snapshotUri,
          embeddingsUri: embedded.embeddingsUri,
        },
        (done, total) => onProgress({ step: 'neighbours', done, total }),
      ),
    );
    report = {
      mode: 'embedding',
      embedded: { computed: embedded.computed, reused: embedded.reused, modelId: embedded.modelId },
      neighbourSearch: neighbours.mode,
      duplicates: neighbours.duplicates,
    };
    listsUri = neighbours.listsUri;
  }

  const algorithm = report.mode;
  const lists = await timed('store', async () => {
    await storePopular(ctx, { tenantId, version, popularUri: popular.popularUri });
    return storeLists(ctx, { tenantId, version, algorithm, listsUri });
  });
  const activated = await timed('activate', () =>
    activateVersion(ctx, {
      tenantId,
      version,
      algorithms: [...new Set([algorithm, 'popular'])],
      lists,
      state: { watermark: extract.watermark, snapshotUri: extract.snapshotUri, embeddingsUri },
    }),
  );
  return {
    tenantId,
    version,
    ...report,
    extract,
    lists,
    interactions: popular.interactions,
    collectedVersions: activated.collected,
    seconds,
  };
}
