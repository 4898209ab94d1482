/**
 * osusume bench embed (npm run bench:embed) — sentences/s of the pipeline's embed step against a bare onnxruntime
 * session (tokenize, pad, run; no pooling, cache or artifacts) on the same model and batch size,
 * in one run. The model is BERT-shaped with random weights (6 x 384, like a small sentence
 * encoder): no pretrained weights can be downloaded here, and speed does not depend on them.
 */

import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { openContext } from '../activities/context.js';
import { EmbeddingModel } from '../activities/embedder.js';
import { embedPosts } from '../activities/embed.js';
import { writeJsonLines } from '../core/artifacts.js';
import { parseConfig } from '../core/config.js';
import { buildBertModel } from '../core/onnx/bert.js';
import { buildVocabulary, wordPieceTokenizerJson } from '../core/model/wordpiece.js';
import { contentHash } from '../core/posts.js';
import { createRandom } from '../core/random.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const SENTENCES = Number(process.env.BENCH_SENTENCES ?? 1024);
const BATCH = 32;
const THREADS = 2;
const WORDS =
  'the a file process open read write memory signal thread socket buffer error return value user system call kernel page ファイル 書式 出力 入力 プロセス'.split(
    ' ',
  );

function sentences(n: number): string[] {
  const random = createRandom(3);
  return Array.from({ length: n }, (_, i) => {
    const len = 12 + Math.floor(random() * 30);
    return (
      `${i} ` +
      Array.from({ length: len }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ')
    );
  });
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'osusume-bench-'));
  const texts = sentences(SENTENCES);
  const modelDir = path.join(dir, 'model');
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
  const config = parseConfig(
    {
      artifactsDir: 'artifacts',
      store: { kind: 'lmdb', path: 'store.lmdb' },
      warehouse: { kind: 'duckdb', path: ':memory:' },
      model: { dir: modelDir, threads: THREADS, batchSize: BATCH, maxTokens: 128 },
    },
    dir,
  );

  // Bare session: what a user would write by hand with onnxruntime-node.
  const model = await EmbeddingModel.load(config.model);
  const bare = await ort.InferenceSession.create(path.join(modelDir, 'model.onnx'), {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  await model.embedBatch(texts.slice(0, BATCH)); // warm-up both
  let start = performance.now();
  for (let b = 0; b < texts.length; b += BATCH) {
    const batch = model.tokenize(texts.slice(b, b + BATCH));
    const dims = [batch.rows, batch.length];
    await bare.run({
      input_ids: new ort.Tensor('int64', batch.ids, dims),
      attention_mask: new ort.Tensor('int64', batch.mask, dims),
      token_type_ids: new ort.Tensor('int64', batch.types, dims),
    });
  }
  const bareRate = texts.length / ((performance.now() - start) / 1000);

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
  start = performance.now();
  const result = await embedPosts(ctx, { tenantId: 'bench', runId: 'bench', snapshotUri });
  const pipelineRate = result.computed / ((performance.now() - start) / 1000);
  await ctx.close();
  await bare.release();
  await model.release();
  rmSync(dir, { recursive: true, force: true });

  console.log(
    `model: random BERT 6 x 384 fp32, ${SENTENCES} sentences, batch ${BATCH}, ${THREADS} threads`,
  );
  console.log(`bare onnxruntime session: ${bareRate.toFixed(1)} sentences/s`);
  console.log(`pipeline embed step:      ${pipelineRate.toFixed(1)} sentences/s`);
  console.log(
    JSON.stringify({
      bench: 'embed',
      sentences: SENTENCES,
      bareRate: +bareRate.toFixed(1),
      pipelineRate: +pipelineRate.toFixed(1),
      ratio: +(pipelineRate / bareRate).toFixed(3),
    }),
  );
}
