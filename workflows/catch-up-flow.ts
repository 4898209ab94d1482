/**
 * Starting a test the same day, written once: a new version with the active version's lists
 * carried over and the lists the experiments file newly needs computed from the same snapshot,
 * then activated. The local `osusume start-test` runs it with the steps called directly; the
 * Temporal `startTestWorkflow` with activity proxies. Deterministic: type-only imports.
 */
import type { CatchUpInput, CatchUpPlan } from '../activities/catch-up.js';
import type { ActivateResult } from '../activities/publish.js';
import { embedRecord, type TenantSteps } from './tenant-flow.js';

export interface CatchUpSteps extends Pick<
  TenantSteps,
  'embed' | 'neighbours' | 'lexical' | 'fielded' | 'hybrid' | 'coengagement' | 'storeLists'
> {
  prepareCatchUp(input: CatchUpInput): Promise<CatchUpPlan>;
  activate(input: Parameters<TenantSteps['activate']>[0]): Promise<ActivateResult>;
}

export interface CatchUpReport {
  tenantId: string;
  version: string;
  from: string;
  /** Algorithms computed now (empty: nothing was needed, and nothing changed). */
  computed: string[];
  skipped?: string;
  algorithms: string[];
  seconds: number;
}

export async function runCatchUpFlow(
  steps: CatchUpSteps,
  input: CatchUpInput,
): Promise<CatchUpReport> {
  const started = Date.now();
  const plan = await steps.prepareCatchUp(input);
  const { tenantId, version, missing } = plan;
  if (missing.length === 0) {
    return {
      tenantId,
      version: plan.from,
      from: plan.from,
      computed: [],
      skipped: plan.skipped,
      algorithms: plan.algorithms,
      seconds: (Date.now() - started) / 1000,
    };
  }
  const lists = new Map(Object.entries(plan.carried));
  const snapshot = { tenantId, runId: version, snapshotUri: plan.snapshotUri };
  const needs = (a: string) => missing.includes(a) || (missing.includes('hybrid') && !lists.has(a));
  let embeddingsUri = plan.embeddingsUri;
  let embedding: ReturnType<typeof embedRecord> | undefined;
  const embeddingLists = needs('embedding') && !lists.has('embedding');
  // Embedded again even where the active version has embeddings: the step reuses every vector
  // of the same model, and a changed model.dir gets new ones instead of stale ones.
  const fieldedEmbeddings = plan.fieldedReadsEmbeddings === true;
  if (embeddingLists || fieldedEmbeddings) {
    const embedded = await steps.embed({ ...snapshot, previousEmbeddingsUri: plan.embeddingsUri });
    embeddingsUri = embedded.embeddingsUri;
    embedding = embedRecord(embedded);
    if (embeddingLists) {
      const neighbours = await steps.neighbours({ ...snapshot, embeddingsUri });
      lists.set('embedding', neighbours.listsUri);
    }
  }
  if (needs('lexical') && !lists.has('lexical'))
    lists.set('lexical', (await steps.lexical(snapshot)).listsUri);
  if (missing.includes('fielded'))
    lists.set(
      'fielded',
      (await steps.fielded({ ...snapshot, ...(fieldedEmbeddings ? { embeddingsUri } : {}) }))
        .listsUri,
    );
  if (missing.includes('coengagement'))
    lists.set('coengagement', (await steps.coengagement(snapshot)).listsUri);
  if (missing.includes('hybrid'))
    lists.set(
      'hybrid',
      (
        await steps.hybrid({
          tenantId,
          runId: version,
          embeddingListsUri: lists.get('embedding')!,
          lexicalListsUri: lists.get('lexical')!,
        })
      ).listsUri,
    );

  let stored = 0;
  for (const [algorithm, listsUri] of lists)
    stored = Math.max(stored, await steps.storeLists({ tenantId, version, algorithm, listsUri }));
  const algorithms = [...new Set([...lists.keys(), 'popular'])].sort();
  await steps.activate({
    tenantId,
    version,
    replaces: plan.from,
    algorithms,
    lists: stored,
    state: { ...plan.state, embeddingsUri },
    record: {
      // Without an embed step the carried embeddings are the active version's, by its model.
      modelId: embedding?.modelId ?? plan.record.modelId,
      inputs: plan.record.inputs,
      metrics: {
        ...plan.record.metrics,
        lists: stored,
        embedded: 0,
        reused: 0,
        ...embedding?.metrics,
      },
      seconds: { catchUp: (Date.now() - started) / 1000 },
      artifacts: {
        ...plan.record.artifacts,
        ...Object.fromEntries([...lists].map(([a, uri]) => [`lists-${a}`, uri])),
        ...(embeddingsUri ? { embeddings: embeddingsUri } : {}),
        ...embedding?.artifacts,
      },
    },
  });
  return {
    tenantId,
    version,
    from: plan.from,
    computed: [...lists.keys()].filter((a) => !(a in plan.carried)),
    algorithms,
    seconds: (Date.now() - started) / 1000,
  };
}
