import { readJsonLines, runArtifact } from '../core/artifacts.js';
import { distinctTexts, type SnapshotPost } from '../core/posts.js';
import { errorMessage } from '../core/errors.js';
import type { LsaProgress } from '../core/model/lsa.js';
import { log } from '../core/log.js';
import { decodeVectors, encodeVectors, type VectorFile } from '../core/vectors.js';
import type { StepContext } from './context.js';
import type { EmbeddingModel } from './embedder.js';
import { modelForTenant, type ModelInfo } from './tenant-model.js';

export interface EmbedInput {
  tenantId: string;
  runId: string;
  snapshotUri: string;
  /** The last activated run's embeddings: vectors of unchanged posts are reused from it. */
  previousEmbeddingsUri?: string;
}

/** Progress in a form a Temporal heartbeat can carry (small, JSON). */
export interface EmbedProgress {
  total: number;
  done: number;
  reused: number;
  chunks: number;
}

export interface EmbedResult {
  embeddingsUri: string;
  count: number;
  dim: number;
  modelId: string;
  model: ModelInfo;
  reused: number;
  computed: number;
}

/** Posts embedded between two checkpoints; a crashed attempt resumes after the last one. */
export const CHUNK_SIZE = 512;

/**
 * Embeds the snapshot's posts. Vectors are keyed by content hash: posts unchanged since the last
 * run, and chunks a crashed attempt of this run already wrote, are not embedded again. Before
 * that, a tenant without a configured model trains its own, reporting to `onTraining`.
 */
export async function embedPosts(
  ctx: StepContext,
  input: EmbedInput,
  onProgress: (p: EmbedProgress) => void = () => {},
  onTraining: (p: LsaProgress) => void = () => {},
): Promise<EmbedResult> {
  const posts = await readJsonLines<SnapshotPost>(ctx.artifacts, input.snapshotUri);
  const unique = distinctTexts(posts);
  const { model, info, release } = await modelForTenant(
    ctx,
    input,
    unique.map(([, text]) => text),
    onTraining,
  );
  try {
    return await embedWith(ctx, input, model, info, unique, onProgress);
  } finally {
    await release();
  }
}

async function embedWith(
  ctx: StepContext,
  input: EmbedInput,
  model: EmbeddingModel,
  info: ModelInfo,
  unique: [string, string][],
  onProgress: (p: EmbedProgress) => void,
): Promise<EmbedResult> {
  const known = new Map<string, Float32Array>();
  const chunkFolder = runArtifact(ctx.artifacts, input.runId, input.tenantId, 'embed-chunks');
  const sources = [
    ...(input.previousEmbeddingsUri ? [input.previousEmbeddingsUri] : []),
    ...(await ctx.artifacts.list(chunkFolder)),
  ];
  for (const uri of sources) {
    if (!(await ctx.artifacts.exists(uri))) continue;
    let file: VectorFile;
    try {
      file = decodeVectors(await ctx.artifacts.read(uri));
    } catch (error) {
      // These files are a cache: a corrupt one costs computing its vectors again, where failing
      // would fail every later run of the tenant (its state names the same file).
      log.warn('embeddings unreadable, computing them again', {
        tenantId: input.tenantId,
        uri,
        error: errorMessage(error),
      });
      continue;
    }
    if (file.meta?.modelId !== model.id || file.dim !== model.dim) continue;
    file.keys.forEach((key, i) =>
      known.set(key, file.data.subarray(i * file.dim, (i + 1) * file.dim)),
    );
  }

  const todo = unique.filter(([hash]) => !known.has(hash));
  // Similar lengths in one batch waste less compute on padding.
  todo.sort((a, b) => a[1].length - b[1].length);
  const reused = unique.length - todo.length;
  let chunks = (await ctx.artifacts.list(chunkFolder)).length;
  let computed = 0;
  const progress = () =>
    onProgress({ total: unique.length, done: reused + computed, reused, chunks });
  progress();

  const batchSize = ctx.config.model.batchSize;
  for (let start = 0; start < todo.length; start += CHUNK_SIZE) {
    const chunk = todo.slice(start, start + CHUNK_SIZE);
    const data = new Float32Array(chunk.length * model.dim);
    for (let b = 0; b < chunk.length; b += batchSize) {
      const batch = chunk.slice(b, b + batchSize);
      data.set(await model.embedBatch(batch.map(([, text]) => text)), b * model.dim);
      computed += batch.length;
      progress();
    }
    const keys = chunk.map(([hash]) => hash);
    keys.forEach((key, i) => known.set(key, data.subarray(i * model.dim, (i + 1) * model.dim)));
    const name = `${String(chunks).padStart(5, '0')}.bin`;
    await ctx.artifacts.write(
      `${chunkFolder}/${name}`,
      encodeVectors({
        dim: model.dim,
        count: keys.length,
        keys,
        data,
        meta: { modelId: model.id },
      }),
    );
    chunks += 1;
    progress();
  }

  const keys = unique.map(([hash]) => hash);
  const matrix = new Float32Array(keys.length * model.dim);
  keys.forEach((key, i) => matrix.set(known.get(key)!, i * model.dim));
  const embeddingsUri = runArtifact(ctx.artifacts, input.runId, input.tenantId, 'embeddings.bin');
  await ctx.artifacts.write(
    embeddingsUri,
    encodeVectors({
      dim: model.dim,
      count: keys.length,
      keys,
      data: matrix,
      meta: { modelId: model.id },
    }),
  );
  return {
    embeddingsUri,
    count: keys.length,
    dim: model.dim,
    modelId: model.id,
    model: info,
    reused,
    computed,
  };
}
