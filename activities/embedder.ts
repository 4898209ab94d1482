import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { ConfigError } from '../core/errors.js';
import type { Vocabulary } from '../core/model/lsa.js';
import { lexicalTerms, TOKENIZER_VERSION } from '../core/text.js';
import { TfidfModel } from '../core/tfidf.js';

/**
 * Runs a BERT-family sentence-embedding model exported to ONNX: tokenizer.json + model.onnx
 * (the layout of Hugging Face / optimum exports). Token-level outputs are mean-pooled over the
 * attention mask, or take the first token's vector with pooling "cls"; every vector is
 * L2-normalised so that inner product is cosine similarity.
 */
export interface EmbeddingModelOptions {
  dir: string;
  prefix: string;
  threads: number;
  maxTokens: number;
  pooling: Pooling;
}

export type Pooling = 'mean' | 'cls';

export const MODEL_FILES = [
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

const FIX_FOLDER =
  'Put the model file and tokenizer.json of one export in it (README, "Plugging in a real embedding model"), ' +
  'or set model.dir to a folder without a model to train one per tenant.';

/** The model file in `dir`; a folder with only part of a model is an error naming what is missing. */
export function findModelFile(dir: string): string {
  const found = MODEL_FILES.map((f) => path.join(dir, f)).find((f) => existsSync(f));
  const text = ['tokenizer.json', 'vocabulary.json']
    .map((f) => path.join(dir, f))
    .find((f) => existsSync(f));
  if (!found) {
    const has = text ? `has ${path.basename(text)} but ` : '';
    throw new ConfigError(
      `The model folder ${dir} ${has}has no model file (one of ${MODEL_FILES.join(', ')}). ${FIX_FOLDER}`,
    );
  }
  if (!text) {
    throw new ConfigError(
      `The model folder ${dir} has ${path.relative(dir, found)} but no tokenizer: ${path.join(dir, 'tokenizer.json')} is missing. ${FIX_FOLDER}`,
    );
  }
  return found;
}

/** A model-folder file that must exist and parse as JSON, else an error naming it. */
function readJsonFile(dir: string, name: string): { bytes: Buffer; json: unknown } {
  const file = path.join(dir, name);
  if (!existsSync(file))
    throw new ConfigError(`The model in ${dir} needs ${file}, which is missing. ${FIX_FOLDER}`);
  const bytes = readFileSync(file);
  try {
    return { bytes, json: JSON.parse(bytes.toString('utf8')) };
  } catch (error) {
    throw new ConfigError(
      `${file} is not valid JSON (${(error as Error).message}). Copy it again from the model's export.`,
    );
  }
}

/** Turns texts into a model's inputs. `mask` marks real tokens, for mean pooling. */
interface Featurizer {
  /** What defines the text-to-input mapping, for the model id. */
  readonly fingerprint: Buffer;
  feeds(texts: string[]): { feeds: Record<string, ort.Tensor>; mask: BigInt64Array };
}

/** BERT-family models: tokenizer.json (Hugging Face), input_ids / attention_mask / token_type_ids. */
class TokenizerFeaturizer implements Featurizer {
  private readonly tokenizer: Tokenizer;

  readonly fingerprint: Buffer;

  constructor(
    dir: string,
    private readonly options: EmbeddingModelOptions,
  ) {
    const { bytes, json } = readJsonFile(dir, 'tokenizer.json');
    this.fingerprint = bytes;
    const tokenizerConfig = existsSync(path.join(dir, 'tokenizer_config.json'))
      ? readJsonFile(dir, 'tokenizer_config.json').json
      : {};
    try {
      this.tokenizer = new Tokenizer(json as object, tokenizerConfig as object);
    } catch (error) {
      throw new ConfigError(
        `${path.join(dir, 'tokenizer.json')} is not a Hugging Face tokenizer (${(error as Error).message}). Copy it again from the model's export.`,
      );
    }
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

  feeds(texts: string[]) {
    const batch = this.tokenize(texts);
    const dims = [batch.rows, batch.length];
    return {
      feeds: {
        input_ids: new ort.Tensor('int64', batch.ids, dims),
        attention_mask: new ort.Tensor('int64', batch.mask, dims),
        token_type_ids: new ort.Tensor('int64', batch.types, dims),
      },
      mask: batch.mask,
    };
  }
}

/** Corpus-trained LSA models (core/model/lsa.ts): vocabulary.json, term_ids / term_weights. */
class VocabularyFeaturizer implements Featurizer {
  private readonly tfidf: TfidfModel;

  readonly fingerprint: Buffer;

  constructor(
    dir: string,
    private readonly options: EmbeddingModelOptions,
  ) {
    const { bytes, json } = readJsonFile(dir, 'vocabulary.json');
    // The same vocabulary read by another tokenizer gives other vectors: a different model.
    this.fingerprint = Buffer.concat([Buffer.from(TOKENIZER_VERSION), bytes]);
    const vocabulary = json as Vocabulary;
    this.tfidf = new TfidfModel(vocabulary.terms, vocabulary.idf);
  }

  feeds(texts: string[]) {
    const rows = texts.map((t) => this.tfidf.weights(lexicalTerms(this.options.prefix + t)));
    const length = Math.max(1, ...rows.map((r) => r.ids.length));
    const ids = new BigInt64Array(texts.length * length);
    const weights = new Float32Array(texts.length * length);
    const mask = new BigInt64Array(texts.length * length);
    rows.forEach((row, r) =>
      row.ids.forEach((id, c) => {
        ids[r * length + c] = BigInt(id);
        weights[r * length + c] = row.weights[c]!;
        mask[r * length + c] = 1n;
      }),
    );
    const dims = [texts.length, length];
    return {
      feeds: {
        term_ids: new ort.Tensor('int64', ids, dims),
        term_weights: new ort.Tensor('float32', weights, dims),
      },
      mask,
    };
  }
}

export class EmbeddingModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly featurizer: Featurizer,
    private readonly outputName: string,
    private readonly pooling: Pooling,
    /** Changes whenever the vectors could change: weights, tokenizer, prefix, truncation. */
    readonly id: string,
    readonly dim: number,
  ) {}

  static async load(options: EmbeddingModelOptions): Promise<EmbeddingModel> {
    const modelFile = findModelFile(options.dir);
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
    let featurizer: Featurizer;
    if (session.inputNames.includes('term_ids'))
      featurizer = new VocabularyFeaturizer(options.dir, options);
    else if (session.inputNames.includes('input_ids'))
      featurizer = new TokenizerFeaturizer(options.dir, options);
    else {
      throw new ConfigError(
        `${modelFile} has neither input_ids (a BERT-family encoder) nor term_ids (an osusume LSA model); inputs: ${session.inputNames.join(', ')}.`,
      );
    }
    const outputName =
      OUTPUT_PREFERENCE.find((n) => session.outputNames.includes(n)) ?? session.outputNames[0]!;
    const id = createHash('sha256')
      .update(modelBytes)
      .update(featurizer.fingerprint)
      // Mean pooling adds nothing, so that models embedded before the option keep their ids.
      .update(JSON.stringify([options.prefix, options.maxTokens, outputName]))
      .update(options.pooling === 'cls' ? 'cls' : '')
      .digest('hex')
      .slice(0, 16);
    const probe = new EmbeddingModel(session, featurizer, outputName, options.pooling, id, 0);
    const dim = (await probe.embedBatch(['probe'])).length;
    return new EmbeddingModel(session, featurizer, outputName, options.pooling, id, dim);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  /** The tokenized batch a BERT-family model is fed (for benchmarks against a bare session). */
  tokenize(texts: string[]): TokenBatch {
    if (!(this.featurizer instanceof TokenizerFeaturizer))
      throw new Error('this model has no tokenizer');
    return this.featurizer.tokenize(texts);
  }

  /** Embeds texts into one row-major matrix of L2-normalised vectors. */
  async embedBatch(texts: string[]): Promise<Float32Array> {
    const { feeds, mask } = this.featurizer.feeds(texts);
    const wanted = Object.fromEntries(
      this.session.inputNames.map((n) => [n, feeds[n as keyof typeof feeds]!]),
    );
    const out = await this.session.run(wanted, [this.outputName]);
    return poolAndNormalise(out[this.outputName]!, mask, this.pooling);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * One vector per row of a [batch, seq, dim] output (masked mean over tokens, or the first
 * token's with "cls"), then L2 normalisation per row. [batch, dim] outputs are only normalised.
 */
export function poolAndNormalise(
  output: ort.Tensor,
  mask: BigInt64Array,
  pooling: Pooling,
): Float32Array {
  const data = output.data as Float32Array;
  const [rows, second, third] = output.dims as number[];
  if (third === undefined) return normaliseRows(Float32Array.from(data), second!);
  const seq = second!;
  const dim = third;
  const pooled = new Float32Array(rows! * dim);
  if (pooling === 'cls') {
    for (let r = 0; r < rows!; r++)
      pooled.set(data.subarray(r * seq * dim, r * seq * dim + dim), r * dim);
    return normaliseRows(pooled, dim);
  }
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
