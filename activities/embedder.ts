import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { ConfigError } from '../core/errors.js';

/**
 * Runs a BERT-family sentence-embedding model exported to ONNX: tokenizer.json + model.onnx
 * (the layout of Hugging Face / optimum exports). Token-level outputs are mean-pooled over the
 * attention mask; every vector is L2-normalised so that inner product is cosine similarity.
 */
export interface EmbeddingModelOptions {
  dir: string;
  prefix: string;
  threads: number;
  maxTokens: number;
}

const MODEL_FILES = [
  'model.onnx',
  'onnx/model.onnx',
  'model_quantized.onnx',
  'onnx/model_quantized.onnx',
];
const OUTPUT_PREFERENCE = ['sentence_embedding', 'last_hidden_state', 'token_embeddings'];

export interface TokenBatch {
  ids: BigInt64Array;
  mask: BigInt64Array;
  types: BigInt64Array;
  rows: number;
  length: number;
}

export function findModelFile(dir: string): string {
  const found = MODEL_FILES.map((f) => path.join(dir, f)).find((f) => existsSync(f));
  if (!found || !existsSync(path.join(dir, 'tokenizer.json'))) {
    throw new ConfigError(
      `No embedding model in ${dir}: it needs tokenizer.json and one of ${MODEL_FILES.join(', ')}. ` +
        'Run `npm run demo` to build the demo model, or export a model as the README describes and set model.dir.',
    );
  }
  return found;
}

export class EmbeddingModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    private readonly options: EmbeddingModelOptions,
    private readonly outputName: string,
    /** Changes whenever the vectors could change: weights, tokenizer, prefix, truncation. */
    readonly id: string,
    readonly dim: number,
  ) {}

  static async load(options: EmbeddingModelOptions): Promise<EmbeddingModel> {
    const modelFile = findModelFile(options.dir);
    const tokenizerJson = readFileSync(path.join(options.dir, 'tokenizer.json'));
    const configFile = path.join(options.dir, 'tokenizer_config.json');
    const tokenizerConfig = existsSync(configFile)
      ? JSON.parse(readFileSync(configFile, 'utf8'))
      : {};
    const tokenizer = new Tokenizer(JSON.parse(tokenizerJson.toString('utf8')), tokenizerConfig);
    const modelBytes = readFileSync(modelFile);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelBytes, {
        intraOpNumThreads: options.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      throw new ConfigError(`onnxruntime cannot load ${modelFile}: ${(error as Error).message}`);
    }
    if (!session.inputNames.includes('input_ids')) {
      throw new ConfigError(
        `${modelFile} has no input_ids input (inputs: ${session.inputNames.join(', ')}); it is not a BERT-family encoder.`,
      );
    }
    const outputName =
      OUTPUT_PREFERENCE.find((n) => session.outputNames.includes(n)) ?? session.outputNames[0]!;
    const id = createHash('sha256')
      .update(modelBytes)
      .update(tokenizerJson)
      .update(JSON.stringify([options.prefix, options.maxTokens, outputName]))
      .digest('hex')
      .slice(0, 16);
    const probe = new EmbeddingModel(session, tokenizer, options, outputName, id, 0);
    const dim = (await probe.embedBatch(['probe'])).length;
    return new EmbeddingModel(session, tokenizer, options, outputName, id, dim);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  /** Tokenizes, truncates to maxTokens (keeping the final [SEP]) and pads to the longest row. */
  tokenize(texts: string[]): TokenBatch {
    const max = this.options.maxTokens;
    const encoded: number[][] = texts.map((t) => {
      const ids = this.tokenizer.encode(this.options.prefix + t).ids;
      return ids.length <= max ? ids : [...ids.slice(0, max - 1), ids[ids.length - 1]!];
    });
    const length = Math.max(1, ...encoded.map((e) => e.length));
    const rows = texts.length;
    const ids = new BigInt64Array(rows * length);
    const mask = new BigInt64Array(rows * length);
    encoded.forEach((e, r) => {
      e.forEach((id, c) => {
        ids[r * length + c] = BigInt(id);
        mask[r * length + c] = 1n;
      });
    });
    return { ids, mask, types: new BigInt64Array(rows * length), rows, length };
  }

  /** Runs the session on a tokenized batch and returns its raw output tensor. */
  async run(batch: TokenBatch): Promise<ort.Tensor> {
    const dims = [batch.rows, batch.length];
    const all: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', batch.ids, dims),
      attention_mask: new ort.Tensor('int64', batch.mask, dims),
      token_type_ids: new ort.Tensor('int64', batch.types, dims),
    };
    const feeds = Object.fromEntries(this.session.inputNames.map((n) => [n, all[n]!]));
    const out = await this.session.run(feeds, [this.outputName]);
    return out[this.outputName]!;
  }

  /** Embeds texts into one row-major matrix of L2-normalised vectors. */
  async embedBatch(texts: string[]): Promise<Float32Array> {
    const batch = this.tokenize(texts);
    return poolAndNormalise(await this.run(batch), batch.mask);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Masked mean over tokens for [batch, seq, dim] outputs, then L2 normalisation per row. */
export function poolAndNormalise(output: ort.Tensor, mask: BigInt64Array): Float32Array {
  const data = output.data as Float32Array;
  const [rows, second, third] = output.dims as number[];
  if (third === undefined) return normaliseRows(Float32Array.from(data), second!);
  const seq = second!;
  const dim = third;
  const pooled = new Float32Array(rows! * dim);
  for (let r = 0; r < rows!; r++) {
    let count = 0;
    for (let s = 0; s < seq; s++) {
      if (mask[r * seq + s] === 0n) continue;
      count += 1;
      const src = (r * seq + s) * dim;
      for (let d = 0; d < dim; d++) pooled[r * dim + d]! += data[src + d]!;
    }
    if (count > 0) for (let d = 0; d < dim; d++) pooled[r * dim + d]! /= count;
  }
  return normaliseRows(pooled, dim);
}

export function normaliseRows(m: Float32Array, dim: number): Float32Array {
  for (let off = 0; off < m.length; off += dim) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += m[off + d]! * m[off + d]!;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) m[off + d]! *= inv;
  }
  return m;
}
