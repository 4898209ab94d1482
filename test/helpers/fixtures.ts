import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EmbeddingModel } from '../../activities/embedder.js';
import { parseConfig, type Config } from '../../core/config.js';
import { lsaModelFiles, type LsaModel } from '../../core/model/lsa.js';
import { buildBertModel } from '../../core/onnx/bert.js';
import { buildVocabulary, wordPieceTokenizerJson } from '../../core/model/wordpiece.js';

// The fixtures the benchmarks use too live in scripts/ (the benchmarks ship; test/ does not).
export {
  demoSubset,
  loadPosts,
  tempDir,
  topicPosts,
  variedDemoPosts,
  writeJsonl,
  type GeneratedPost,
} from '../../scripts/fixtures.js';

/** A complete local configuration rooted in `dir`, with overrides. */
export function testConfig(dir: string, overrides: Record<string, unknown> = {}): Config {
  return parseConfig(
    {
      warehouse: { kind: 'duckdb', path: 'warehouse.duckdb' },
      store: { kind: 'lmdb', path: 'store.lmdb' },
      artifactsDir: 'artifacts',
      pipeline: { minPostsForEmbedding: 5 },
      ...overrides,
    },
    dir,
  );
}

/** A small BERT-shaped model with a tokenizer built from `texts`, written as a model folder. */
export function writeTestBertModel(
  dir: string,
  texts: string[],
  options: { int8?: boolean; hidden?: number } = {},
): void {
  const vocab = buildVocabulary(texts, { maxWords: 2000, minDocumentFrequency: 1 });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizerJson(vocab)));
  const hidden = options.hidden ?? 32;
  writeFileSync(
    path.join(dir, 'model.onnx'),
    buildBertModel({
      vocabSize: vocab.length,
      hidden,
      layers: 2,
      heads: 4,
      intermediate: hidden * 2,
      maxPositions: 512,
      int8: options.int8,
    }),
  );
}

/** An LSA model written as a model folder (model.onnx, vocabulary.json) and loaded as an encoder. */
export function loadLsaEncoder(dir: string, model: LsaModel): Promise<EmbeddingModel> {
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(lsaModelFiles(model)))
    writeFileSync(path.join(dir, name), data);
  return EmbeddingModel.load({ dir, prefix: '', threads: 1, maxTokens: 128, pooling: 'mean' });
}

/** A post with neither title nor body: a tenant of only such rows fails at extract (bad data). */
export function emptyPost(tenantId: string, postId: string) {
  return {
    tenantId,
    postId,
    title: '',
    body: '',
    createdAt: '2024-01-01T00:00:00Z',
    updatedAt: '2024-01-01T00:00:00Z',
  };
}
