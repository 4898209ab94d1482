/**
 * One tenant's run, written once: extract -> popular -> embed -> neighbours -> store -> activate.
 * The Temporal tenant workflow runs it with activity proxies; the local batch runs it with the
 * step functions called directly. It must stay deterministic (no I/O, no clocks but Date.now,
 * which Temporal replays): everything it imports from activities/ is type-only.
 */
import type { EmbedInput, EmbedResult } from '../activities/embed.js';
import type { ExtractInput, ExtractResult } from '../activities/extract.js';
import type { CoengagementInput } from '../activities/coengagement.js';
import type { HybridInput } from '../activities/hybrid.js';
import type { LexicalInput } from '../activities/lexical.js';
import type { NeighboursInput, NeighboursResult } from '../activities/neighbours.js';
import type { PopularInput, PopularResult } from '../activities/popular.js';
import type {
  ActivateInput,
  ActivateResult,
  StoreListsInput,
  StorePopularInput,
} from '../activities/publish.js';

export interface TenantSteps {
  extract(input: ExtractInput): Promise<ExtractResult>;
  popular(input: PopularInput): Promise<PopularResult>;
  embed(input: EmbedInput): Promise<EmbedResult>;
  neighbours(input: NeighboursInput): Promise<NeighboursResult>;
  lexical(input: LexicalInput): Promise<{ listsUri: string; lists: number }>;
  fielded(input: LexicalInput): Promise<{ listsUri: string; lists: number }>;
  hybrid(input: HybridInput): Promise<{ listsUri: string; lists: number }>;
  coengagement(input: CoengagementInput): Promise<{ listsUri: string; lists: number }>;
  storePopular(input: StorePopularInput): Promise<void>;
  storeLists(input: StoreListsInput): Promise<number>;
  activate(input: ActivateInput): Promise<ActivateResult>;
}

export type Step = keyof TenantSteps;

/**
 * What an embed step adds to its version's run record: the model, the vectors it computed and
 * reused, and a model trained in the run, its cost and folder. The batch and start-test both
 * embed, so that `osusume runs` names the model of every version that serves embeddings.
 */
export function embedRecord(embedded: EmbedResult): {
  modelId: string;
  metrics: Record<string, number>;
  artifacts: Record<string, string>;
} {
  const model = embedded.model;
  return {
    modelId: embedded.modelId,
    metrics: {
      embedded: embedded.computed,
      reused: embedded.reused,
      ...(model?.trainSeconds !== undefined
        ? {
            modelTrainSeconds: model.trainSeconds,
            modelBytes: model.bytes ?? 0,
            modelTerms: model.terms ?? 0,
          }
        : {}),
    },
    artifacts: model?.uri ? { model: model.uri } : {},
  };
}

export interface TenantRunInput {
  tenantId: string;
  /** The run id is also the version the lists are written under. */
  runId: string;
  /** Overrides the steps' heartbeat timeout (Temporal only; config temporal.heartbeatTimeout). */
  heartbeatTimeout?: string;
}

export interface TenantReport {
  tenantId: string;
  version: string;
  mode: ExtractResult['mode'];
  /** Per-post list algorithms computed and served by this version. */
  algorithms: string[];
  extract: ExtractResult;
  /** `modelDir`: the pretrained model's folder; absent, the tenant trained its own model. */
  embedded?: { computed: number; reused: number; modelId: string; modelDir?: string };
  neighbourSearch?: NeighboursResult['mode'];
  duplicates: number;
  lists: number;
  interactions: number;
  collectedVersions: string[];
  /** The run id was already activated for this tenant: nothing was computed or written. */
  alreadyActivated?: true;
  seconds: Partial<Record<Step, number>>;
}

export async function runTenantFlow(
  steps: TenantSteps,
  input: TenantRunInput,
): Promise<TenantReport> {
  const { tenantId, runId } = input;
  const seconds: TenantReport['seconds'] = {};
  const timed = async <T>(step: Step, work: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    const result = await work();
    seconds[step] = (seconds[step] ?? 0) + (Date.now() - start) / 1000;
    return result;
  };

  const extract = await timed('extract', () => steps.extract({ tenantId, runId }));
  if (extract.alreadyActivated) {
    return {
      tenantId,
      version: runId,
      mode: extract.mode,
      algorithms: [],
      extract,
      duplicates: 0,
      lists: 0,
      interactions: 0,
      collectedVersions: [],
      alreadyActivated: true,
      seconds,
    };
  }
  const full = extract.mode !== 'popular';
  // Histories recorded before listAlgorithms existed computed embeddings only.
  const algorithms = full ? (extract.listAlgorithms ?? ['embedding']) : ['popular'];
  const popular = await timed('popular', () =>
    steps.popular({
      tenantId,
      runId,
      snapshotUri: extract.snapshotUri,
      perPostLists: !full,
      // The default (fielded) blends them in too, where there are any.
      keepInteractions: algorithms.includes('coengagement') || algorithms.includes('fielded'),
    }),
  );

  const listsUris = new Map<string, string>();
  if (!full) listsUris.set('popular', popular.listsUri!);
  let embeddingsUri: string | undefined;
  let embedding: ReturnType<typeof embedRecord> | undefined;
  // Histories recorded before extract counted copies took the embedding search's count.
  let details: Pick<TenantReport, 'embedded' | 'neighbourSearch' | 'duplicates'> = {
    duplicates: extract.copies ?? 0,
  };
  // A hybrid list is made of the embedding and lexical lists: compute those too.
  const needs = (a: string) => algorithms.includes(a) || algorithms.includes('hybrid');
  // Histories recorded before fieldedReadsEmbeddings existed lack it: false, as then.
  const fieldedEmbeddings = extract.fieldedReadsEmbeddings === true;
  if (needs('embedding') || fieldedEmbeddings) {
    const embedded = await timed('embed', () =>
      steps.embed({
        tenantId,
        runId,
        snapshotUri: extract.snapshotUri,
        previousEmbeddingsUri: extract.previousEmbeddingsUri,
      }),
    );
    embeddingsUri = embedded.embeddingsUri;
    embedding = embedRecord(embedded);
    details = {
      ...details,
      embedded: {
        computed: embedded.computed,
        reused: embedded.reused,
        modelId: embedded.modelId,
        ...(embedded.model?.dir ? { modelDir: embedded.model.dir } : {}),
      },
    };
    if (needs('embedding')) {
      const neighbours = await timed('neighbours', () =>
        steps.neighbours({
          tenantId,
          runId,
          snapshotUri: extract.snapshotUri,
          embeddingsUri: embedded.embeddingsUri,
        }),
      );
      listsUris.set('embedding', neighbours.listsUri);
      details = {
        ...details,
        neighbourSearch: neighbours.mode,
        duplicates: extract.copies ?? neighbours.duplicates,
      };
    }
  }
  const addLists = async (
    algorithm: 'lexical' | 'fielded' | 'coengagement' | 'hybrid',
    run: () => Promise<{ listsUri: string }>,
  ) => listsUris.set(algorithm, (await timed(algorithm, run)).listsUri);
  const snapshot = { tenantId, runId, snapshotUri: extract.snapshotUri };
  if (needs('lexical')) await addLists('lexical', () => steps.lexical(snapshot));
  if (algorithms.includes('fielded'))
    await addLists('fielded', () =>
      steps.fielded({
        ...snapshot,
        interactionsUri: popular.interactionsUri,
        ...(fieldedEmbeddings ? { embeddingsUri } : {}),
      }),
    );
  if (algorithms.includes('coengagement'))
    await addLists('coengagement', () =>
      steps.coengagement({ ...snapshot, interactionsUri: popular.interactionsUri }),
    );
  if (algorithms.includes('hybrid'))
    await addLists('hybrid', () =>
      steps.hybrid({
        tenantId,
        runId,
        embeddingListsUri: listsUris.get('embedding')!,
        lexicalListsUri: listsUris.get('lexical')!,
      }),
    );

  await timed('storePopular', () =>
    steps.storePopular({ tenantId, version: runId, popularUri: popular.popularUri }),
  );
  let lists = 0;
  for (const [algorithm, listsUri] of listsUris) {
    const stored = await timed('storeLists', () =>
      steps.storeLists({ tenantId, version: runId, algorithm, listsUri }),
    );
    lists = Math.max(lists, stored);
  }
  const served = [...listsUris.keys()];
  const activated = await timed('activate', () =>
    steps.activate({
      tenantId,
      version: runId,
      algorithms: served.includes('popular') ? served : [...served, 'popular'],
      lists,
      state: { watermark: extract.watermark, snapshotUri: extract.snapshotUri, embeddingsUri },
      record: {
        modelId: embedding?.modelId ?? null,
        inputs: {
          posts: extract.posts,
          rowsRead: extract.rowsRead,
          deleted: extract.deleted,
          skipped: Object.values(extract.skipped).reduce((a, b) => a + (b ?? 0), 0),
          interactions: popular.interactions,
        },
        metrics: {
          lists,
          duplicates: details.duplicates,
          embedded: 0,
          reused: 0,
          ...embedding?.metrics,
        },
        seconds: { ...seconds } as Record<string, number>,
        artifacts: {
          snapshot: extract.snapshotUri,
          ...(embeddingsUri ? { embeddings: embeddingsUri } : {}),
          ...embedding?.artifacts,
          ...Object.fromEntries([...listsUris].map(([a, uri]) => [`lists-${a}`, uri])),
        },
      },
    }),
  );
  return {
    tenantId,
    version: runId,
    mode: extract.mode,
    algorithms,
    extract,
    ...details,
    lists,
    interactions: popular.interactions,
    collectedVersions: activated.collected,
    seconds,
  };
}
