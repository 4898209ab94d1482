import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lsaModelFiles, trainLsaPaced, type LsaProgress } from '../core/model/lsa.js';
import { runArtifact } from '../core/artifacts.js';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { StepContext } from './context.js';
import { EmbeddingModel, findModelFile, MODEL_FILES } from './embedder.js';

/** Which model embedded a tenant's posts, for reports and run records. */
export interface ModelInfo {
  kind: 'configured' | 'tenant-lsa';
  id: string;
  /** configured: the pretrained model's folder (model.dir). */
  dir?: string;
  /** tenant-lsa: the versioned model folder (model.onnx + vocabulary.json) of this run. */
  uri?: string;
  trainSeconds?: number;
  bytes?: number;
  terms?: number;
  dim?: number;
}

/**
 * True when `dir` holds a model file or a tokenizer: a folder with only part of a model is an
 * error (findModelFile), not a silent fall-back to per-tenant models.
 */
function modelConfigured(dir: string): boolean {
  return [...MODEL_FILES, 'tokenizer.json'].some((f) => existsSync(path.join(dir, f)));
}

/**
 * The pretrained model's folder, or undefined when every tenant trains its own: the one place
 * that decides. A model.dir the configuration sets must be a folder (a mistyped path would
 * otherwise mean per-tenant models without a word); the default may be absent. A folder that
 * exists but holds no model still means per-tenant models: the cloud deployment mounts the
 * models bucket there, and a model in it is optional. A folder with part of a model (model.onnx
 * without tokenizer.json) is an error here, so that the batch and the worker stop before they
 * run anything, not each tenant at its embed step (nor never, when no list reads embeddings).
 */
export function configuredModelDir(
  model: Pick<Config['model'], 'dir' | 'dirSet'>,
): string | undefined {
  if (model.dirSet && !statSync(model.dir, { throwIfNoEntry: false })?.isDirectory()) {
    const what = existsSync(model.dir) ? 'a file, not a folder' : 'which does not exist';
    throw new ConfigError(
      `model.dir resolves to ${model.dir}, ${what}. The folder must hold the model files, ` +
        'tokenizer.json and model.onnx of one export (README, "Plugging in a real embedding model"): ' +
        "correct the path (a relative one is resolved from the configuration file's folder), " +
        'or remove model.dir from the configuration to have every tenant train its own model.',
    );
  }
  if (!modelConfigured(model.dir)) return undefined;
  findModelFile(model.dir);
  return model.dir;
}

/**
 * The configured model, or else an LSA model trained now on the tenant's own texts, stored as a
 * run artifact and loaded through the same onnxruntime path. Training is deterministic, so a
 * retried attempt gets the same model id and reuses its checkpoints. It pauses for the event loop
 * and calls `onTraining` as it goes (trainLsaPaced): the step heartbeats, and a cancelled one
 * stops, however long it takes. `release` frees a trained model.
 */
export async function modelForTenant(
  ctx: StepContext,
  input: { tenantId: string; runId: string },
  texts: string[],
  onTraining: (progress: LsaProgress) => void = () => {},
): Promise<{ model: EmbeddingModel; info: ModelInfo; release: () => Promise<void> }> {
  const dir = configuredModelDir(ctx.config.model);
  if (dir) {
    const model = await ctx.model();
    return { model, info: { kind: 'configured', id: model.id, dir }, release: async () => {} };
  }
  const started = performance.now();
  const lsa = await trainLsaPaced(texts, { dim: ctx.config.model.lsaDim }, { onPause: onTraining });
  const trainSeconds = Math.round(performance.now() - started) / 1000;
  const files = lsaModelFiles(lsa);
  const uri = runArtifact(ctx.artifacts, input.runId, input.tenantId, 'model');
  const local = mkdtempSync(path.join(tmpdir(), 'osusume-model-'));
  let bytes = 0;
  try {
    for (const [name, data] of Object.entries(files)) {
      await ctx.artifacts.write(`${uri}/${name}`, data);
      writeFileSync(path.join(local, name), data);
      bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    }
    const model = await EmbeddingModel.load({ ...ctx.config.model, dir: local, prefix: '' });
    return {
      model,
      info: {
        kind: 'tenant-lsa',
        id: model.id,
        uri,
        trainSeconds,
        bytes,
        terms: lsa.terms.length,
        dim: lsa.dim,
      },
      release: () => model.release(),
    };
  } finally {
    rmSync(local, { recursive: true, force: true });
  }
}
