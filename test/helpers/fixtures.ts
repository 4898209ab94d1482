import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddingModel } from '../../activities/embedder.js';
import { parseConfig, type Config } from '../../core/config.js';
import { lsaModelFiles, type LsaModel } from '../../core/model/lsa.js';
import { buildBertModel } from '../../core/onnx/bert.js';
import { DuckDbWarehouse } from '../../core/warehouse/duckdb.js';
import { buildVocabulary, wordPieceTokenizerJson } from '../../core/model/wordpiece.js';
import { createRandom } from '../../core/random.js';

export function tempDir(prefix = 'osusume-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A complete local configuration rooted in `dir`, with overrides. */
export function testConfig(dir: string, overrides: Record<string, unknown> = {}): Config {
  return parseConfig(
    {
      warehouse: { kind: 'duckdb', path: 'warehouse.duckdb' },
      store: { kind: 'lmdb', path: 'store.lmdb' },
      artifactsDir: 'artifacts',
      model: { dir: 'model' },
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

const TOPICS: Record<string, string[]> = {
  cooking: ['recipe', 'oven', 'flour', 'butter', 'bake', 'dough', 'sugar', 'knead'],
  cycling: ['bike', 'wheel', 'chain', 'saddle', 'gear', 'pedal', 'tyre', 'brake'],
  astronomy: ['telescope', 'planet', 'orbit', 'galaxy', 'comet', 'nebula', 'lens', 'star'],
  gardening: ['soil', 'seed', 'compost', 'tomato', 'prune', 'water', 'bloom', 'root'],
};

export interface GeneratedPost {
  tenantId: string;
  postId: string;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  topic: string;
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

/** Posts about a few topics: a post's true neighbours are the posts of its topic. */
export function topicPosts(tenantId: string, count: number, seed = 1): GeneratedPost[] {
  const random = createRandom(seed);
  const topics = Object.keys(TOPICS);
  return Array.from({ length: count }, (_, i) => {
    const topic = topics[i % topics.length]!;
    const words = TOPICS[topic]!;
    const pick = () => words[Math.floor(random() * words.length)]!;
    const ts = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString();
    return {
      tenantId,
      postId: `p${String(i).padStart(4, '0')}`,
      title: `${pick()} and ${pick()}`,
      body: Array.from({ length: 12 }, pick).join(' '),
      createdAt: ts,
      updatedAt: ts,
      topic,
    };
  });
}

export function writeJsonl(file: string, rows: unknown[]): string {
  writeFileSync(
    file,
    rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n',
  );
  return file;
}

/** Loads rows into the configured DuckDB warehouse (appending unless `replace`). */
export async function loadPosts(
  config: Config,
  rows: unknown[],
  options: { replace?: boolean } = {},
): Promise<void> {
  if (config.warehouse.kind !== 'duckdb')
    throw new Error('test fixtures load the DuckDB warehouse');
  const w = await DuckDbWarehouse.open(config.warehouse.path);
  const file = `${path.dirname(config.warehouse.path)}/posts-${randomUUID()}.jsonl`;
  await w.importFile('posts', writeJsonl(file, rows), options);
  await w.close();
}
