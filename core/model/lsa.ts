import { GraphBuilder } from '../onnx/graph.js';
import { DataType } from '../onnx/proto.js';
import { createNormal } from '../random.js';
import { mapSteps, runAtOnce, runPaced, type Pacing, type Progress } from '../pacing.js';
import { lexicalTerms } from '../text.js';
import { TfidfModel } from '../tfidf.js';

/**
 * Latent semantic analysis trained on a tenant's own posts: TF-IDF (core/text.ts terms),
 * then a truncated SVD by randomized subspace iteration. Each term gets a d-dimensional vector;
 * a post's embedding is the normalised TF-IDF-weighted sum of its terms' vectors (= U S of the
 * SVD for training posts). Exported as ONNX: term ids and weights in, an L2-normalised vector out.
 * Per tenant on purpose: each community has its own vocabulary, and no tenant's text ends up in
 * a model that serves another.
 */
export interface LsaModel {
  terms: string[];
  idf: Float32Array;
  /** Row-major [terms, dim]. */
  vectors: Float32Array;
  dim: number;
  singularValues: number[];
}

export interface Vocabulary {
  kind: 'osusume-lsa';
  terms: string[];
  idf: number[];
}

/** Gram-Schmidt on the columns of m [rows, cols], in place; a progress step after each column. */
function* orthonormalise(
  m: Float64Array,
  rows: number,
  cols: number,
  stage: string,
): Generator<LsaProgress, void> {
  for (let c = 0; c < cols; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += m[r * cols + c]! * m[r * cols + p]!;
      for (let r = 0; r < rows; r++) m[r * cols + c]! -= dot * m[r * cols + p]!;
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += m[r * cols + c]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < rows; r++) m[r * cols + c]! /= norm;
    yield { stage, done: c + 1, total: cols };
  }
}

/** Eigen-decomposition of a small symmetric matrix (cyclic Jacobi); eigenvalues descending. */
export function symmetricEigen(
  a: Float64Array,
  n: number,
): { values: number[]; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q]! - m[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!;
          const mkq = m[k * n + q]!;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!;
          const mqk = m[q * n + k]!;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) => m[y * n + y]! - m[x * n + x]!,
  );
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src]!;
  });
  return { values: order.map((i) => m[i * n + i]!), vectors };
}

export interface LsaOptions {
  dim?: number;
  /** Terms must appear in at least this many posts. */
  minDocumentFrequency?: number;
  powerIterations?: number;
  seed?: number;
}

/** Where training is: its stage, and the units of that stage (texts, rows, columns, terms) done. */
export type LsaProgress = Progress;

/**
 * Training, as steps: it yields its progress after each small unit of work (a text, a row, a
 * column, a term; milliseconds at most), so that trainLsaPaced can let the event loop run between
 * them. The arithmetic runs in the same order however the steps are driven: the model is the same
 * byte for byte whether and wherever training paused.
 */
function* training(texts: string[], options: LsaOptions): Generator<LsaProgress, LsaModel> {
  const n = texts.length;
  const docs = yield* mapSteps(texts, 'tokenise', lexicalTerms);
  const fitted = yield* TfidfModel.fitSteps(docs, options.minDocumentFrequency ?? 2);
  // The model stores idf as float32; train with exactly the weights inference will see.
  const { terms } = fitted;
  const idf = Float32Array.from(fitted.idf);
  const tfidf = new TfidfModel(terms, idf);
  const rows = yield* mapSteps(docs, 'weigh', (doc) => {
    const row = tfidf.weights(doc);
    const norm = Math.sqrt(row.weights.reduce((s, w) => s + w * w, 0)) || 1;
    return { ids: row.ids, weights: row.weights.map((w) => w / norm) };
  });
  const V = terms.length;
  const dim = Math.max(1, Math.min(options.dim ?? 128, n - 1, V));
  const l = Math.min(dim + 10, n, V);

  // X^T M: [V, l] from X [n, V] (sparse rows) and M [n, l].
  function* xtm(m: Float64Array, stage: string): Generator<LsaProgress, Float64Array> {
    const out = new Float64Array(V * l);
    for (let r = 0; r < n; r++) {
      const { ids, weights } = rows[r]!;
      for (let j = 0; j < ids.length; j++) {
        const id = ids[j]!;
        const w = weights[j]!;
        for (let c = 0; c < l; c++) out[id * l + c]! += w * m[r * l + c]!;
      }
      yield { stage, done: r + 1, total: n };
    }
    return out;
  }
  // X M: [n, l] from M [V, l].
  function* xm(m: Float64Array, stage: string): Generator<LsaProgress, Float64Array> {
    const out = new Float64Array(n * l);
    for (let r = 0; r < n; r++) {
      const { ids, weights } = rows[r]!;
      for (let j = 0; j < ids.length; j++) {
        const id = ids[j]!;
        const w = weights[j]!;
        for (let c = 0; c < l; c++) out[r * l + c]! += w * m[id * l + c]!;
      }
      yield { stage, done: r + 1, total: n };
    }
    return out;
  }

  const normal = createNormal(options.seed ?? 7);
  let q: Float64Array = new Float64Array(n * l);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < l; c++) q[r * l + c] = normal();
    yield { stage: 'sample', done: r + 1, total: n };
  }
  const passes = 1 + (options.powerIterations ?? 3);
  for (let i = 1; i <= passes; i++) {
    const stage = `iteration ${i}/${passes}`;
    q = yield* xm(yield* xtm(q, stage), stage);
    yield* orthonormalise(q, n, l, stage);
  }
  // B^T = X^T Q [V, l]; B B^T = (X^T Q)^T (X^T Q) [l, l] = W S^2 W^T.
  const bt = yield* xtm(q, 'project');
  const gram = new Float64Array(l * l);
  for (let t = 0; t < V; t++) {
    for (let a = 0; a < l; a++) {
      const x = bt[t * l + a]!;
      if (x === 0) continue;
      for (let b = a; b < l; b++) gram[a * l + b]! += x * bt[t * l + b]!;
    }
    yield { stage: 'gram', done: t + 1, total: V };
  }
  for (let a = 0; a < l; a++) for (let b = 0; b < a; b++) gram[a * l + b] = gram[b * l + a]!;
  const { values, vectors: w } = symmetricEigen(gram, l);
  const singularValues = values.slice(0, dim).map((x) => Math.sqrt(Math.max(x, 0)));
  // Right singular vectors: V_d = B^T W S^-1 [V, dim].
  const termVectors = new Float32Array(V * dim);
  for (let t = 0; t < V; t++) {
    for (let k = 0; k < dim; k++) {
      let s = 0;
      for (let a = 0; a < l; a++) s += bt[t * l + a]! * w[a * l + k]!;
      termVectors[t * dim + k] = singularValues[k]! > 1e-9 ? s / singularValues[k]! : 0;
    }
    yield { stage: 'vectors', done: t + 1, total: V };
  }
  return { terms, idf, vectors: termVectors, dim, singularValues };
}

/** Trains at once, holding the thread until done: for scripts, evaluation and tests. */
export function trainLsa(texts: string[], options: LsaOptions = {}): LsaModel {
  return runAtOnce(training(texts, options));
}

/**
 * The same model as trainLsa, for the batch's steps: training takes minutes on a large tenant
 * (BENCHMARKS.md), so it pauses for the event loop as it goes (runPaced), calling `onPause`.
 */
export async function trainLsaPaced(
  texts: string[],
  options: LsaOptions = {},
  pacing: Pacing = {},
): Promise<LsaModel> {
  return runPaced(training(texts, options), pacing);
}

/**
 * Each text's embedding as the exported model computes it (the normalised TF-IDF-weighted sum of
 * its terms' vectors), row-major [texts, dim], without going through onnxruntime.
 */
export function lsaEmbeddings(model: LsaModel, texts: string[][]): Float32Array {
  const tfidf = new TfidfModel(model.terms, model.idf);
  const out = new Float32Array(texts.length * model.dim);
  texts.forEach((terms, row) => {
    const { ids, weights } = tfidf.weights(terms);
    const at = row * model.dim;
    ids.forEach((id, j) => {
      for (let c = 0; c < model.dim; c++)
        out[at + c]! += weights[j]! * model.vectors[id * model.dim + c]!;
    });
    let norm = 0;
    for (let c = 0; c < model.dim; c++) norm += out[at + c]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let c = 0; c < model.dim; c++) out[at + c]! /= norm;
  });
  return out;
}

/** The model folder's files: model.onnx (weighted sum of term vectors, L2-normalised) and vocabulary.json. */
export function lsaModelFiles(
  model: LsaModel,
): Record<'model.onnx' | 'vocabulary.json', Uint8Array | string> {
  const g = new GraphBuilder();
  const ids = g.input('term_ids', DataType.INT64, ['batch', 'terms']);
  const weights = g.input('term_weights', DataType.FLOAT, ['batch', 'terms']);
  // A tenant whose posts share no term (all identical, or no words) has no vocabulary, but the
  // featurizer still pads every row with term 0 (weight 0): Gather needs that row to exist.
  const rows = Math.max(1, model.terms.length);
  const table = model.terms.length > 0 ? model.vectors : new Float32Array(model.dim);
  const vectors = g.op('Gather', [g.constant(table, [rows, model.dim]), ids], { axis: 0 });
  const weighted = g.op('Mul', [
    vectors,
    g.op('Unsqueeze', [weights, g.constant(BigInt64Array.of(-1n), [1])]),
  ]);
  const summed = g.op('ReduceSum', [weighted, g.constant(BigInt64Array.of(1n), [1])], {
    keepdims: 0,
  });
  g.op('LpNormalization', [summed], { axis: -1, p: 2 }, 'sentence_embedding');
  g.output('sentence_embedding', DataType.FLOAT, ['batch', model.dim]);
  const vocabulary: Vocabulary = {
    kind: 'osusume-lsa',
    terms: model.terms,
    idf: Array.from(model.idf),
  };
  return {
    'model.onnx': g.toBytes({
      producer: 'osusume-lsa',
      docString: `LSA ${model.terms.length} terms x ${model.dim}`,
    }),
    'vocabulary.json': JSON.stringify(vocabulary),
  };
}
