import { describe, expect, it } from 'vitest';
import { coengagementLists } from '../activities/coengagement.js';
import { fuseLists } from '../activities/hybrid.js';
import { sparseNeighbours, tfidf } from '../activities/lexical.js';
import { lexicalTerms } from '../core/text.js';

describe('lexical terms', () => {
  it('uses words for English and character bigrams for Japanese, folding width and case', () => {
    expect(lexicalTerms('The PRINTF function: ファイルを開く')).toEqual([
      'ファ',
      'ァイ',
      'イル',
      'ルを',
      'を開',
      '開く',
      'printf',
      'function',
    ]);
    expect(lexicalTerms('ＡＢＣ ｶﾀｶﾅ 字')).toEqual(['カタ', 'タカ', 'カナ', '字', 'abc']);
  });
});

describe('TF-IDF neighbours', () => {
  const texts = [
    'open a file descriptor for reading',
    'close a file descriptor',
    'read from a file descriptor',
    'allocate memory on the heap',
    'free memory allocated on the heap',
    'ファイルを開く',
    'ファイルを閉じる',
  ];

  it('equals brute-force cosine over the same vectors', () => {
    const vectors = tfidf(texts);
    const dense = vectors.map((v) => {
      const m = new Map<number, number>();
      v.ids.forEach((id, j) => m.set(id, v.weights[j]!));
      return m;
    });
    const cosine = (a: Map<number, number>, b: Map<number, number>) =>
      [...a].reduce((s, [id, w]) => s + w * (b.get(id) ?? 0), 0);
    const knn = sparseNeighbours(vectors, 3);
    texts.forEach((_, row) => {
      const expected = texts
        .map((__, other) => [other, cosine(dense[row]!, dense[other]!)] as const)
        .filter(([, s]) => s > 0)
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, 3)
        .map(([other]) => other);
      expect([...knn.labels.subarray(row * 3, row * 3 + expected.length)]).toEqual(expected);
    });
    expect(knn.labels[0]).toBe(0);
    expect([knn.labels[1], knn.labels[2]].sort()).toEqual([1, 2]);
    expect(knn.labels[5 * 3 + 1]).toBe(6);
  });
});

describe('hybrid fusion', () => {
  it('averages the two cosines, bounding a missing one by that list’s lowest score', () => {
    const embedding = [
      {
        postId: 'p',
        items: [
          { postId: 'a', score: 0.9 },
          { postId: 'b', score: 0.5 },
        ],
      },
    ];
    const lexical = [
      {
        postId: 'p',
        items: [
          { postId: 'b', score: 0.8 },
          { postId: 'c', score: 0.2 },
        ],
      },
    ];
    expect(fuseLists(embedding, lexical, 3)).toEqual([
      {
        postId: 'p',
        items: [
          { postId: 'b', score: 0.65 },
          { postId: 'a', score: 0.55 },
          { postId: 'c', score: 0.35 },
        ],
      },
    ]);
  });
});

describe('co-engagement', () => {
  const event = (userId: string, postId: string) => ({
    tenantId: 't',
    userId,
    postId,
    type: 'view',
    ts: '2024-01-01T00:00:00.000Z',
  });
  it('scores posts by the cosine of the users who engaged with them, ignoring deleted posts', () => {
    const interactions = [
      event('u1', 'a'),
      event('u1', 'b'),
      event('u2', 'a'),
      event('u2', 'b'),
      event('u2', 'c'),
      event('u3', 'c'),
      event('u3', 'gone'),
      event('u1', 'a'),
    ];
    const lists = Object.fromEntries(
      coengagementLists(['a', 'b', 'c', 'd'], interactions, 5).map((l) => [l.postId, l.items]),
    );
    // a: users {u1,u2}; b: {u1,u2}; c: {u2,u3}. cos(a,b) = 2/2 = 1; cos(a,c) = 1/2.
    expect(lists.a).toEqual([
      { postId: 'b', score: 1 },
      { postId: 'c', score: 0.5 },
    ]);
    expect(lists.c).toEqual([
      { postId: 'a', score: 0.5 },
      { postId: 'b', score: 0.5 },
    ]);
    expect(lists.d).toEqual([]);
  });
});
