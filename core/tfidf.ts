/**
 * TF-IDF, the one weighting every text method shares (lexical lists, the title-aware lists, the
 * per-tenant LSA model and its ONNX featurizer): sublinear tf x smoothed idf, over terms that
 * appear in at least `minDocumentFrequency` documents. Term ids follow the sorted vocabulary, so
 * a model's ids are stable for the same corpus.
 */
import { loopSteps, runAtOnce, type Steps } from './pacing.js';

/** Term ids (ascending) and weights. */
export interface SparseVector {
  ids: Int32Array;
  weights: Float32Array;
}

export class TfidfModel {
  private readonly index: Map<string, number>;

  constructor(
    readonly terms: string[],
    readonly idf: ArrayLike<number>,
  ) {
    this.index = new Map(terms.map((t, i) => [t, i]));
  }

  static fit(docs: string[][], minDocumentFrequency = 2): TfidfModel {
    return runAtOnce(TfidfModel.fitSteps(docs, minDocumentFrequency));
  }

  /**
   * fit as steps, one per document counted: a large tenant's document frequencies take seconds,
   * which a batch step must not spend without pausing (core/pacing.ts).
   */
  static *fitSteps(
    docs: string[][],
    minDocumentFrequency = 2,
    stage = 'vocabulary',
  ): Steps<TfidfModel> {
    const df = new Map<string, number>();
    yield* loopSteps(docs.length, stage, (i) => {
      for (const term of new Set(docs[i]!)) df.set(term, (df.get(term) ?? 0) + 1);
    });
    const terms = [...df.entries()]
      .filter(([, count]) => count >= minDocumentFrequency)
      .map(([term]) => term)
      .sort();
    const idf = Float64Array.from(terms, (t) => Math.log((docs.length + 1) / (df.get(t)! + 1)) + 1);
    return new TfidfModel(terms, idf);
  }

  /**
   * Sublinear tf x idf of one document's terms (ids ascending); terms outside the vocabulary are
   * ignored. `idfPower` above 1 favours rare terms more (the default lists' full-text channel).
   */
  weights(terms: string[], idfPower = 1): { ids: Int32Array; weights: Float64Array } {
    const tf = new Map<number, number>();
    for (const term of terms) {
      const id = this.index.get(term);
      if (id !== undefined) tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    const ids = Int32Array.from(tf.keys()).sort();
    return {
      ids,
      weights: Float64Array.from(
        ids,
        (id) => (1 + Math.log(tf.get(id)!)) * Math.pow(this.idf[id]!, idfPower),
      ),
    };
  }

  /** The same, L2-normalised. */
  vectorize(terms: string[], idfPower = 1): SparseVector {
    const { ids, weights } = this.weights(terms, idfPower);
    const norm = Math.sqrt(weights.reduce((s, w) => s + w * w, 0)) || 1;
    return { ids, weights: Float32Array.from(weights, (w) => w / norm) };
  }
}
