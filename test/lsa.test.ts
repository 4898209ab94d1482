import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  lsaEmbeddings,
  lsaModelFiles,
  symmetricEigen,
  trainLsa,
  trainLsaPaced,
  type LsaModel,
  type LsaProgress,
} from '../core/model/lsa.js';
import { lexicalTerms } from '../core/text.js';
import { TfidfModel } from '../core/tfidf.js';
import { demoSubset, loadLsaEncoder, tempDir, topicPosts } from './helpers/fixtures.js';

const texts = topicPosts('t', 80, 3).map((p) => `${p.title} ${p.body}`);

describe('LSA', () => {
  it('decomposes a symmetric matrix (Jacobi)', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]), 3);
    expect(values.map((v) => +v.toFixed(6))).toEqual([5, 3, 1]);
    // The first eigenvector is e3; the second (1, 1, 0)/sqrt 2 up to sign.
    expect(Math.abs(vectors[2 * 3 + 0]!)).toBeCloseTo(1, 6);
    expect(Math.abs(vectors[0 * 3 + 1]!)).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('learns orthonormal term directions with descending singular values', () => {
    const model = trainLsa(texts, { dim: 6 });
    expect(model.dim).toBe(6);
    expect([...model.singularValues].sort((a, b) => b - a)).toEqual(model.singularValues);
    for (let a = 0; a < 6; a++) {
      for (let b = 0; b < 6; b++) {
        let dot = 0;
        for (let t = 0; t < model.terms.length; t++)
          dot += model.vectors[t * 6 + a]! * model.vectors[t * 6 + b]!;
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 3);
      }
    }
  });

  it('exports an ONNX model whose output is the normalised weighted sum (as lsaEmbeddings computes), and topics separate', async () => {
    const model = trainLsa(texts, { dim: 8 });
    const tmp = tempDir();
    const onnx = await loadLsaEncoder(`${tmp.dir}/m`, model);
    const out = await onnx.embedBatch(texts.slice(0, 8));
    const tfidf = new TfidfModel(model.terms, model.idf);
    for (let r = 0; r < 8; r++) {
      const { ids, weights } = tfidf.weights(lexicalTerms(texts[r]!));
      const v = new Float64Array(8);
      ids.forEach((id, j) => {
        for (let d = 0; d < 8; d++) v[d] = v[d]! + weights[j]! * model.vectors[id * 8 + d]!;
      });
      const norm = Math.hypot(...v);
      for (let d = 0; d < 8; d++) expect(out[r * 8 + d]).toBeCloseTo(v[d]! / norm, 4);
    }
    // The same vectors without onnxruntime (the default lists' latent channel).
    const direct = lsaEmbeddings(model, texts.slice(0, 8).map(lexicalTerms));
    direct.forEach((x, i) => expect(out[i]).toBeCloseTo(x, 4));
    // topicPosts cycles through 4 topics: rows 0 and 4 share one, rows 0 and 1 do not.
    const cos = (a: number, b: number) =>
      out.subarray(a * 8, a * 8 + 8).reduce((s, x, d) => s + x * out[b * 8 + d]!, 0);
    expect(cos(0, 4)).toBeGreaterThan(cos(0, 1) + 0.3);
    await onnx.release();
    tmp.cleanup();
  });

  it('exports a model with no terms, whose vectors are zero, when no term is in two texts', async () => {
    // A tenant of identical posts trains on its one distinct text.
    for (const corpus of [['same text'], ['の を', '🎉 !!!', 'a', 'bike chain', 'oven']]) {
      const model = trainLsa(corpus);
      expect(model.terms).toEqual([]);
      const tmp = tempDir();
      const onnx = await loadLsaEncoder(`${tmp.dir}/m`, model);
      expect([...(await onnx.embedBatch(corpus))]).toEqual(corpus.map(() => 0));
      await onnx.release();
      tmp.cleanup();
    }
  });

  describe('trained with pauses for the event loop (trainLsaPaced, as the batch steps train)', () => {
    // A real tenant's pages: English only, as ICU's Japanese word breaks may change with Node.
    const pages = demoSubset(Infinity)
      .filter((p) => p.tenantId === 'en-man2')
      .map((p) => `${p.title} ${p.body}`);
    const digest = (model: LsaModel) => {
      const files = lsaModelFiles(model);
      return createHash('sha256')
        .update(files['model.onnx'])
        .update(files['vocabulary.json'])
        .digest('hex');
    };

    it('is the same model byte for byte wherever it pauses: a retried attempt reuses its checkpoints', async () => {
      const stages = new Set<string>();
      const paced = await trainLsaPaced(
        pages,
        {},
        {
          everyMs: 0,
          onPause: (p: LsaProgress) => stages.add(p.stage),
        },
      );
      expect(digest(paced)).toBe(digest(trainLsa(pages)));
      // What trainLsa gave before training could pause. Another digest is another model id for
      // every tenant: their next run embeds every post again, reusing nothing.
      expect(digest(paced)).toBe(
        '0e3536c66112e21118913ba93c8925b7448ee9d7242c1d31cf8a0126eb61fb9f',
      );
      // Every long loop pauses (everyMs 0: after each unit of work).
      expect([...stages]).toEqual([
        'tokenise',
        'vocabulary',
        'weigh',
        'sample',
        ...[1, 2, 3, 4].map((i) => `iteration ${i}/4`),
        'project',
        'gram',
        'vectors',
      ]);
    });

    it('stops when onPause throws (a cancelled step)', async () => {
      let pauses = 0;
      const training = trainLsaPaced(
        pages,
        {},
        {
          everyMs: 0,
          onPause: () => {
            pauses += 1;
            if (pauses === 3) throw new Error('cancelled');
          },
        },
      );
      await expect(training).rejects.toThrow('cancelled');
      expect(pauses).toBe(3);
    });
  });
});
