import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { EmbeddingModel, poolAndNormalise } from '../activities/embedder.js';
import { configuredModelDir } from '../activities/tenant-model.js';
import { loadConfig, parseConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { lsaModelFiles, trainLsa } from '../core/model/lsa.js';
import { tempDir, topicPosts, writeTestBertModel } from './helpers/fixtures.js';

const tmp = tempDir();
const texts = [
  ...topicPosts('t', 40).map((p) => `${p.title} ${p.body}`),
  'ファイルを開く open システムコール',
  '書式付き出力 printf',
];
const options = (dir: string) => ({
  dir,
  prefix: '',
  threads: 1,
  maxTokens: 64,
  pooling: 'mean' as const,
});
const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

beforeAll(() => {
  writeTestBertModel(`${tmp.dir}/fp32`, texts);
  writeTestBertModel(`${tmp.dir}/int8`, texts, { int8: true });
});
afterAll(() => tmp.cleanup());

describe('EmbeddingModel (onnxruntime-node)', () => {
  it('returns one L2-normalised vector per text, independent of batch composition and padding', async () => {
    const model = await EmbeddingModel.load(options(`${tmp.dir}/fp32`));
    expect(model.dim).toBe(32);
    const batch = await model.embedBatch(texts.slice(0, 8));
    expect(batch.length).toBe(8 * 32);
    for (let r = 0; r < 8; r++)
      expect(norm(batch.subarray(r * 32, (r + 1) * 32))).toBeCloseTo(1, 5);
    // The shortest text alone (no padding) must equal its row in the padded batch.
    const lengths = texts.slice(0, 8).map((t) => t.length);
    const shortest = lengths.indexOf(Math.min(...lengths));
    const alone = await model.embedBatch([texts[shortest]!]);
    expect(dot(alone, batch.subarray(shortest * 32, (shortest + 1) * 32))).toBeGreaterThan(0.99999);
    await model.release();
  });

  it('accepts an int8 dynamically quantised model, close to its fp32 original', async () => {
    const fp32 = await EmbeddingModel.load(options(`${tmp.dir}/fp32`));
    const int8 = await EmbeddingModel.load(options(`${tmp.dir}/int8`));
    expect(int8.id).not.toBe(fp32.id);
    const a = await fp32.embedBatch(texts.slice(0, 4));
    const b = await int8.embedBatch(texts.slice(0, 4));
    for (let r = 0; r < 4; r++)
      expect(
        dot(a.subarray(r * 32, (r + 1) * 32), b.subarray(r * 32, (r + 1) * 32)),
      ).toBeGreaterThan(0.98);
  });

  it('truncates long texts to maxTokens and handles Japanese', async () => {
    const model = await EmbeddingModel.load({ ...options(`${tmp.dir}/fp32`), maxTokens: 16 });
    const batch = model.tokenize(['bike '.repeat(500), 'ファイルを開く']);
    expect(batch.length).toBe(16);
    expect(batch.mask.slice(16, 32).reduce((a, x) => a + x, 0n)).toBeGreaterThan(2n);
    const vectors = await model.embedBatch(['bike '.repeat(500)]);
    expect(norm(vectors)).toBeCloseTo(1, 5);
  });

  it('pools token vectors by the masked mean, or takes the first token\'s with pooling "cls"', async () => {
    // Two rows of three tokens of two dimensions; the second row's last token is padding.
    const tokens = new ort.Tensor(
      'float32',
      Float32Array.from([3, 4, 0, 2, 6, 0, 0, 5, 1, 1, 9, 9]),
      [2, 3, 2],
    );
    const mask = BigInt64Array.from([1n, 1n, 1n, 1n, 1n, 0n]);
    const close = (got: Float32Array, want: number[]) =>
      want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));
    close(poolAndNormalise(tokens, mask, 'cls'), [0.6, 0.8, 0, 1]);
    // Means (3, 2) and (0.5, 3): the padding's (9, 9) is left out.
    close(poolAndNormalise(tokens, mask, 'mean'), [
      3 / Math.hypot(3, 2),
      2 / Math.hypot(3, 2),
      0.5 / Math.hypot(0.5, 3),
      3 / Math.hypot(0.5, 3),
    ]);

    const meanModel = await EmbeddingModel.load(options(`${tmp.dir}/fp32`));
    const clsModel = await EmbeddingModel.load({ ...options(`${tmp.dir}/fp32`), pooling: 'cls' });
    expect(clsModel.id).not.toBe(meanModel.id); // other vectors, so a full re-embed
    const a = await meanModel.embedBatch(texts.slice(0, 2));
    const b = await clsModel.embedBatch(texts.slice(0, 2));
    expect(dot(b.subarray(0, 32), b.subarray(0, 32))).toBeCloseTo(1, 5);
    expect(dot(a.subarray(0, 32), b.subarray(0, 32))).toBeLessThan(0.9999);
  });

  it('runs a corpus-trained LSA model (term ids and weights in) through the same path', async () => {
    const dir = `${tmp.dir}/lsa`;
    mkdirSync(dir, { recursive: true });
    for (const [name, data] of Object.entries(lsaModelFiles(trainLsa(texts, { dim: 16 }))))
      writeFileSync(`${dir}/${name}`, data);
    const model = await EmbeddingModel.load(options(dir));
    expect(model.inputNames).toEqual(['term_ids', 'term_weights']);
    const v = await model.embedBatch([
      'bike wheel chain',
      'bike wheel brake',
      'telescope planet orbit',
    ]);
    // A corpus LSA model: shared words (and topics) mean closer vectors.
    expect(dot(v.subarray(0, 16), v.subarray(16, 32))).toBeGreaterThan(
      dot(v.subarray(0, 16), v.subarray(32, 48)),
    );
  });

  it('names the folder and the missing file when a model folder is incomplete, and says what to do', async () => {
    const noTokenizer = `${tmp.dir}/no-tokenizer`;
    mkdirSync(noTokenizer, { recursive: true });
    copyFileSync(`${tmp.dir}/fp32/model.onnx`, `${noTokenizer}/model.onnx`);
    const error = await EmbeddingModel.load(options(noTokenizer)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`${noTokenizer}/tokenizer.json is missing`);
    expect((error as Error).message).toContain('Plugging in a real embedding model');
    // The same error before anything runs (the batch, the worker), set or the default folder.
    for (const dirSet of [true, false])
      expect(() => configuredModelDir({ dir: noTokenizer, dirSet })).toThrow(error as ConfigError);

    // A tokenizer without a model is an error too, not a silent switch to per-tenant models.
    const noModel = `${tmp.dir}/no-model`;
    mkdirSync(noModel, { recursive: true });
    copyFileSync(`${tmp.dir}/fp32/tokenizer.json`, `${noModel}/tokenizer.json`);
    const noModelFile = `The model folder ${noModel} has tokenizer.json but has no model file (one of model.onnx`;
    await expect(EmbeddingModel.load(options(noModel))).rejects.toThrow(noModelFile);
    expect(() => configuredModelDir({ dir: noModel, dirSet: true })).toThrow(noModelFile);
    mkdirSync(`${tmp.dir}/empty`, { recursive: true });
    expect(configuredModelDir({ dir: `${tmp.dir}/empty`, dirSet: true })).toBeUndefined();

    const badJson = `${tmp.dir}/bad-json`;
    mkdirSync(badJson, { recursive: true });
    copyFileSync(`${tmp.dir}/fp32/model.onnx`, `${badJson}/model.onnx`);
    writeFileSync(`${badJson}/tokenizer.json`, '{"truncated": ');
    await expect(EmbeddingModel.load(options(badJson))).rejects.toThrow(
      `${badJson}/tokenizer.json is not valid JSON`,
    );

    mkdirSync(`${tmp.dir}/broken`, { recursive: true });
    copyFileSync(`${tmp.dir}/fp32/tokenizer.json`, `${tmp.dir}/broken/tokenizer.json`);
    writeFileSync(`${tmp.dir}/broken/model.onnx`, 'not a model');
    await expect(EmbeddingModel.load(options(`${tmp.dir}/broken`))).rejects.toThrow(
      `onnxruntime cannot load ${tmp.dir}/broken/model.onnx`,
    );
  });

  it('refuses a model.dir that was set and is not a folder, while the default may be absent', () => {
    const base = `${tmp.dir}/configured`;
    mkdirSync(base);
    // Unset: .osusume/model beside the configuration, absent here: every tenant trains its own.
    const unset = loadConfig({}, base);
    expect(unset.model).toMatchObject({ dir: `${base}/.osusume/model`, dirSet: false });
    expect(configuredModelDir(unset.model)).toBeUndefined();

    // Set in the file or in OSUSUME_CONFIG_YAML, a mistyped path is an error saying what to do.
    const typo = 'model: { dir: models/e5-smal }\n';
    writeFileSync(`${base}/osusume.config.yaml`, typo);
    const fix =
      'The folder must hold the model files, tokenizer.json and model.onnx of one export (README, "Plugging in a real embedding model"): ' +
      "correct the path (a relative one is resolved from the configuration file's folder), " +
      'or remove model.dir from the configuration to have every tenant train its own model.';
    for (const config of [loadConfig({}, base), loadConfig({ OSUSUME_CONFIG_YAML: typo }, base)]) {
      expect(config.model).toMatchObject({ dir: `${base}/models/e5-smal`, dirSet: true });
      expect(() => configuredModelDir(config.model)).toThrow(
        new ConfigError(
          `model.dir resolves to ${base}/models/e5-smal, which does not exist. ${fix}`,
        ),
      );
    }
    // The model file instead of its folder: an error too, not per-tenant models.
    const file = parseConfig({ model: { dir: 'fp32/model.onnx' } }, tmp.dir).model;
    expect(() => configuredModelDir(file)).toThrow(
      `model.dir resolves to ${tmp.dir}/fp32/model.onnx, a file, not a folder. ${fix}`,
    );
    // A folder without a model (the cloud's models bucket, left empty) still means per-tenant
    // models; the default folder holding one is used.
    mkdirSync(`${base}/models/e5-smal`, { recursive: true });
    expect(configuredModelDir(loadConfig({}, base).model)).toBeUndefined();
    const fallback = parseConfig({}, `${tmp.dir}/default`).model;
    writeTestBertModel(fallback.dir, texts.slice(0, 5));
    expect(configuredModelDir(fallback)).toBe(`${tmp.dir}/default/.osusume/model`);
  });
});
