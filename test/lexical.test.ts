import { describe, expect, it } from 'vitest';
import { blendLists, coengagementLists } from '../activities/coengagement.js';
import { fuseLists } from '../activities/hybrid.js';
import {
  fieldedListSteps,
  fieldedLists,
  fieldedNeighbours,
  lexicalListSteps,
  lexicalLists,
  leadingName,
  listedNames,
  neighbourListChannel,
  phraseMentions,
  repeatedTitleShare,
  rescorePool,
  titleContainment,
  sparseNeighbours,
  tfidf,
  weightedNeighbours,
} from '../activities/lexical.js';
import { parseConfig } from '../core/config.js';
import { lsaEmbeddings, trainLsa } from '../core/model/lsa.js';
import { runPaced } from '../core/pacing.js';
import { toSnapshotPost, type Interaction } from '../core/posts.js';
import { characterNgrams, lexicalTerms } from '../core/text.js';
import { TfidfModel, type SparseVector } from '../core/tfidf.js';
import { topicPosts, variedDemoPosts } from './helpers/fixtures.js';

describe('lexical terms', () => {
  it('uses words for English and dictionary words for Japanese, folding width and case', () => {
    expect(lexicalTerms('The PRINTF function: ファイルを開く')).toEqual([
      'ファイル',
      '開く',
      'printf',
      'function',
    ]);
    expect(lexicalTerms('ＡＢＣ ｶﾀｶﾅ 字')).toEqual(['カタカナ', '字', 'abc']);
    expect(lexicalTerms('日本語の文章を単語に分割します')).toEqual([
      '日本語',
      '文章',
      '単語',
      '分割',
      'ます',
    ]);
  });

  it('keeps the parts of English identifiers as before, and the whole identifier too', () => {
    expect(lexicalTerms('link libfoo.so with python3.11 -lfoo.')).toEqual([
      'libfoo.so',
      'python3.11',
      'link',
      'libfoo',
      'so',
      'python3',
      '11',
      'lfoo',
    ]);
  });

  it('keeps the combining marks NFKC does not compose inside their word, in linear time', () => {
    // Pointed Hebrew, vowelled Arabic and Hindi were cut into letters: garbage terms such as
    // the article ال, or none at all.
    expect(lexicalTerms('שָׁלוֹם עוֹלָם مَرْحَبًا بِالْعَالَم हिन्दी')).toEqual([
      'שָׁלוֹם',
      'עוֹלָם',
      'مَرْحَبًا',
      'بِالْعَالَم',
      'हिन्दी',
    ]);
    expect(lexicalTerms('cafe\u0301 lib\u0301.so')).toEqual([
      'lib\u0301.so',
      'café',
      'lib\u0301',
      'so',
    ]);
    const started = performance.now();
    expect(lexicalTerms(`e${'\u0301'.repeat(100_000)}.x`)).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('splits a long word in linear time: a 100,000-letter URL path is not n² regex steps', () => {
    const word = 'x'.repeat(100_000);
    const started = performance.now();
    expect(lexicalTerms(`https://example.com/${word} see a.b`)).toEqual([
      'example.com',
      'a.b',
      'https',
      'example',
      'com',
      word,
      'see',
    ]);
    // About 10 s before the fix, a few ms after: the bound leaves room for a slow machine.
    expect(performance.now() - started).toBeLessThan(1000);
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

describe('top-k of weighted channels', () => {
  it('keeps the k best rows of every row, ties by row, as a full sort does', () => {
    // Many rows share terms (ties) and every row touches far more rows than k.
    const texts = Array.from({ length: 60 }, (_, i) => `w${i % 7} w${i % 5} w${i % 3} common`);
    const vectors = tfidf(texts);
    const all = sparseNeighbours(vectors, texts.length);
    for (const k of [1, 4, 9]) {
      const top = sparseNeighbours(vectors, k);
      for (let row = 0; row < texts.length; row++) {
        expect([...top.labels.subarray(row * k, row * k + k)]).toEqual([
          ...all.labels.subarray(row * all.k, row * all.k + k),
        ]);
        expect([...top.scores.subarray(row * k, row * k + k)]).toEqual([
          ...all.scores.subarray(row * all.k, row * all.k + k),
        ]);
      }
    }
    const ranked = [...all.labels.subarray(0, all.k)];
    const scores = [...all.scores.subarray(0, all.k)];
    ranked.forEach((row, i) => {
      if (i > 0)
        expect(
          scores[i - 1]! > scores[i]! || (scores[i - 1] === scores[i] && ranked[i - 1]! < row),
        ).toBe(true);
    });
  });
});

describe('title-aware (fielded) neighbours', () => {
  const weights = parseConfig({}, process.cwd()).fielded;
  const post = (title: string, body: string) => ({ title, text: `${title} ${body}` });
  /** The dot product of two sparse vectors (ids need not be sorted). */
  const dot = (x: SparseVector, y: SparseVector) =>
    [...x.ids].reduce(
      (s, id, j) => s + x.weights[j]! * (y.weights[[...y.ids].indexOf(id)] ?? 0),
      0,
    );
  /** The first page's nearest other page under these weights. */
  const bestOtherOfFirst = (pages: ReturnType<typeof post>[], w: typeof weights) =>
    [...fieldedNeighbours(pages, 3, w).labels.subarray(0, 3)].find((row) => row !== 0);
  // A support thread ("tray 2") and an unrelated post that shares more body words with its start.
  const posts = [
    post('Paper jam in tray 2', 'the office printer keeps jamming paper since monday'),
    post('Paper jam in tray 2', 'try cleaning the rollers'),
    post('Coffee machine broken', 'the office coffee machine keeps jamming since monday'),
    post('Holiday calendar', 'the office closes on monday for the holiday'),
    post('Rollers for the printer', 'new rollers ordered for the office printer'),
  ];

  it('ranks the reply with the same subject first, where full-text cosine does not', () => {
    // Row 0's neighbours are [itself, the best other, ...].
    const second = (knn: { labels: Int32Array }) => knn.labels[1];
    expect(second(sparseNeighbours(tfidf(posts.map((p) => p.text)), 3))).toBe(2);
    expect(second(fieldedNeighbours(posts, 3, weights))).toBe(1);
  });

  it('sums the weighted cosines of every channel, as brute force does', () => {
    const a = tfidf(posts.map((p) => p.text));
    const b = tfidf(posts.map((p) => p.title));
    const knn = weightedNeighbours(
      [
        { queries: a, docs: a, weight: 1 },
        { queries: b, docs: b, weight: 0.5 },
      ],
      posts.length,
    );
    posts.forEach((_, row) => {
      for (let i = 0; i < knn.k; i++) {
        const other = knn.labels[row * knn.k + i]!;
        if (other < 0) continue;
        const expected = dot(a[row]!, a[other]!) + 0.5 * dot(b[row]!, b[other]!);
        expect(knn.scores[row * knn.k + i]).toBeCloseTo(expected, 5);
      }
    });
  });

  it('measures how much of a title a body names, whatever the body’s length', () => {
    const docs = [['getaddrinfo', 'socket'], ['hosts'], ['socket'], ['hosts', 'file']];
    const model = TfidfModel.fit(docs, 1);
    const { queries, docs: bodies } = titleContainment(
      model,
      [['getaddrinfo', 'socket']],
      [['see', 'getaddrinfo', 'socket', ...Array(50).fill('hosts')], ['socket'], ['file']],
    );
    const idf = (t: string) => model.idf[model.terms.indexOf(t)]!;
    expect(dot(queries[0]!, bodies[0]!)).toBeCloseTo(1, 6);
    expect(dot(queries[0]!, bodies[1]!)).toBeCloseTo(
      idf('socket') ** 2 / (idf('socket') ** 2 + idf('getaddrinfo') ** 2),
      6,
    );
    expect(dot(queries[0]!, bodies[2]!)).toBe(0);
  });

  it('weighs a title term in containment by what it says beyond a term in every post, when asked', () => {
    // "overview" is in every post, so idf - 1 gives it nothing: a body naming it names no title.
    const docs = [
      ['overview', 'colour'],
      ['overview', 'brush'],
      ['overview', 'colour'],
      ['overview'],
    ];
    const model = TfidfModel.fit(docs, 1);
    const contained = (information: boolean) => {
      const { queries, docs: bodies } = titleContainment(
        model,
        [['overview', 'colour']],
        [['overview'], ['colour']],
        information,
      );
      return bodies.map((body) => dot(queries[0]!, body));
    };
    const idf = (t: string) => model.idf[model.terms.indexOf(t)]!;
    expect(idf('overview')).toBeCloseTo(1, 9);
    expect(contained(false)[0]).toBeGreaterThan(0.2);
    expect(contained(true)).toEqual([0, expect.closeTo(1, 6)]);
  });

  it('fades a partial title match with the repeated-title share, identical titles scoring as before', () => {
    // Two identical titles and two that share most words, among titles that do not repeat.
    const pages = [
      post('Introduction', 'how this guide is laid out'),
      post('Introduction', 'what the reader needs first'),
      post('Paper jam in the upper tray', 'open the cover'),
      post('Paper jam in the lower tray', 'lift the lever'),
      post('Layers', 'upper layer masks'),
      post('Paths', 'lower bezier paths'),
      post('Text', 'text tool'),
      post('Filters', 'blur filters'),
    ];
    const score = (w: typeof weights, a: number, b: number) => {
      const knn = fieldedNeighbours(pages, pages.length, w);
      const row = [...knn.labels.subarray(a * knn.k, (a + 1) * knn.k)];
      return knn.scores[a * knn.k + row.indexOf(b)]!;
    };
    const partial = { ...weights, exactTitles: 0 };
    const exact = { ...weights, exactTitles: 1 };
    expect(score(exact, 0, 1)).toBeCloseTo(score(partial, 0, 1), 5);
    expect(score(exact, 2, 3)).toBeLessThan(score(partial, 2, 3) - 0.01);
  });

  it('weighs the title channels by the share of repeated titles: on in threads, off in manuals', () => {
    const vectors = (titles: string[]) => {
      const terms = titles.map(lexicalTerms);
      const model = TfidfModel.fit(terms, 1);
      return terms.map((t) => model.vectorize(t));
    };
    expect(repeatedTitleShare(vectors(posts.map((p) => p.title)), 0.8)).toBeCloseTo(2 / 5);
    expect(repeatedTitleShare(vectors(['ls', 'cp', 'mv', 'list directory contents']), 0.8)).toBe(0);
    // Same generic titles, different text: without repeated titles, the body decides.
    const pages = [
      post('Overview', 'keyboard shortcuts for the paint brush'),
      post('Overview colour', 'colour management profiles'),
      post('Brushes', 'paint brush shortcuts and keyboard settings'),
      post('Profiles', 'icc colour profiles and management'),
      post('Layers', 'layer masks'),
      post('Paths', 'bezier paths'),
      post('Text', 'text tool'),
      post('Filters', 'blur filters'),
    ];
    expect(repeatedTitleShare(vectors(pages.map((p) => p.title)), 0.8)).toBe(0);
    const knn = fieldedNeighbours(pages, 2, weights);
    expect(knn.labels[1]).toBe(2);
  });

  it('matches a body that names the other post by its leading title term, when weighted', () => {
    // Page 0 calls page 1 by its name only; page 2 shares more of page 0's words.
    const pages = [
      post('Reading files', 'open a file and read it; see sys for the standard streams'),
      post('sys system parameters', 'interpreter state, argv and the exit status'),
      post('Writing files', 'open a file and write it to the standard output'),
      post('Interpreter notes', 'interpreter notes'),
      post('Sockets', 'network connections'),
    ];
    const none = { ...weights, leadingTerm: 0, containment: 0 };
    expect(bestOtherOfFirst(pages, none)).toBe(2);
    expect(bestOtherOfFirst(pages, { ...none, leadingTerm: 1 })).toBe(1);
  });

  it('weighs rare terms by idf to a power, and counts title terms again when asked', () => {
    const model = TfidfModel.fit(
      [
        ['a', 'b'],
        ['a', 'c'],
        ['a', 'b'],
      ],
      1,
    );
    const idf = (t: string) => model.idf[model.terms.indexOf(t)]!;
    const squared = model.weights(['a', 'c', 'c'], 2);
    expect([...squared.weights]).toEqual([idf('a') ** 2, (1 + Math.log(2)) * idf('c') ** 2]);
    // Two posts with the same body: the title decides once title terms count twice.
    const pages = [
      post('colour profiles', 'icc files'),
      post('printer setup', 'about the screen and the printer'),
      post('colour profiles', 'about the screen and the printer'),
      post('screen settings', 'about the screen'),
    ];
    const best = (titleRepeats: number) =>
      fieldedNeighbours(pages, 2, { ...weights, titleChannels: 0, containment: 0, titleRepeats })
        .labels[2 * 2 + 1];
    expect(best(0)).not.toBe(0);
    expect(best(3)).toBe(0);
  });

  it('adds the cosine of two posts’ neighbour lists, linking posts that only share neighbours', () => {
    // Pages 0 and 1 share no term; both resemble page 2, which names both topics.
    const pages = [
      post('Layers', 'layer masks and layer groups'),
      post('Brushes', 'brush dynamics and brush presets'),
      post('Painting on layers', 'brush strokes on layer masks'),
      post('Printing', 'printer settings'),
    ];
    const plain = { ...weights, containment: 0 };
    const neighboursOf0 = (w: typeof weights) => {
      const knn = fieldedNeighbours(pages, 4, w);
      return [...knn.labels.subarray(0, 4)].filter((row) => row >= 0);
    };
    expect(neighboursOf0(plain)).not.toContain(1);
    expect(neighboursOf0({ ...plain, sharedNeighbours: 0.5, neighbourListLength: 3 })).toContain(1);
    // The channel's rows: each post's neighbours (itself included) by score, L2-normalised.
    const text = tfidf(pages.map((p) => p.text));
    const channel = neighbourListChannel([{ queries: text, docs: text, weight: 1 }], 3, 0.5);
    const knn = sparseNeighbours(text, 3);
    const row0 = channel.queries[0]!;
    const expected = [...knn.labels.subarray(0, 3)]
      .map((label, j) => [label, knn.scores[j]!] as const)
      .filter(([label]) => label >= 0)
      .sort((a, b) => a[0] - b[0]);
    const norm = Math.hypot(...expected.map(([, s]) => s));
    expect([...row0.ids]).toEqual(expected.map(([label]) => label));
    [...row0.weights].forEach((w, j) => expect(w).toBeCloseTo(expected[j]![1] / norm, 6));
    expect(channel.weight).toBe(0.5);
  });

  it('matches the names two titles list by character trigrams, and only names', () => {
    expect(leadingName('getaddrinfo(3) — network address translation')).toBe('getaddrinfo');
    expect(leadingName(' os.path — Common pathname manipulations')).toBe('os.path');
    expect(leadingName('ｇｅｔｅｎｔ(1)')).toBe('getent');
    expect(leadingName('Layers Dialog')).toBeUndefined();
    expect(leadingName('ファイルを開く')).toBeUndefined();
    // Every name a title lists, up to its section or description.
    expect(listedNames('isalnum, isalpha, isxdigit_l(3) — character classes')).toEqual([
      'isalnum',
      'isalpha',
      'isxdigit_l',
    ]);
    expect(listedNames('pthread_attr_init, pthread_attr_destroy - attributes')).toEqual([
      'pthread_attr_init',
      'pthread_attr_destroy',
    ]);
    expect(listedNames('json — JSON encoder and decoder')).toEqual(['json']);
    expect(listedNames('Layers Dialog, layers')).toEqual([]);
    expect(listedNames('new sequences window')).toEqual(['new']);
    // Two functions of one family whose texts share no word; page 2 shares words with page 0.
    const pages = [
      post('getaddrinfo(3) — network address translation', 'resolve a host and a service'),
      post('getnameinfo(3) — reverse lookup', 'the name of a peer'),
      post('Sockets', 'a host and a service on the network'),
      post('Threads', 'locks and conditions'),
    ];
    const plain = { ...weights, containment: 0 };
    expect(bestOtherOfFirst(pages, plain)).toBe(2);
    expect(bestOtherOfFirst(pages, { ...plain, nameGrams: 1 })).toBe(1);
    // A page of several functions meets the page of a later one's wide-character twin.
    const listed = [
      post('isalnum, isalpha, isdigit(3) — character classes', 'test a byte'),
      post('iswalpha(3) — test for alphabetic wide character', 'wide'),
      post('Bytes', 'test a byte and a wide'),
      post('Threads', 'locks and conditions'),
    ];
    expect(bestOtherOfFirst(listed, plain)).toBe(2);
    expect(bestOtherOfFirst(listed, { ...plain, nameGrams: 1 })).toBe(1);
  });

  it('finds the posts whose short title a body holds as a phrase, in English and Japanese', () => {
    const pages = [
      post('getent(1) — get entries', 'see gethostent(3) and the Layers Dialog.'),
      post('gethostent(3) — get network host entry', 'like getent, unlike gethostentry'),
      post('Layers Dialog', 'dialog layers, in another order; the layers dialog'),
      post('シェルプロンプト', 'ファイルの圧縮とシェルプロンプトの設定'),
      post('圧縮', '説明'),
      post('Dialog', 'nothing named here'),
    ];
    expect(phraseMentions(pages).map((v) => [...v.ids])).toEqual([
      // getent names gethostent (by its leading name), "Layers Dialog" (whole words) and
      // "Dialog", a title of its own that the same words hold.
      [1, 2, 5],
      // "getent" as a word, not inside "gethostentry".
      [0],
      // Its own title is not a mention; "Dialog" is.
      [5],
      // Japanese titles match inside unspaced text.
      [4],
      [],
      [],
    ]);
    expect([...phraseMentions(pages)[0]!.weights]).toEqual([1, 1, 1]);
  });

  it('adds the phrase channel both ways: a post that names another, and one it is named by', () => {
    const pages = [
      post('Sockets', 'open a socket'),
      post('Threads', 'start a thread; see Sockets'),
      post('Socket options', 'set options of an open socket'),
    ];
    const plain = { ...weights, containment: 0, titlePhrase: 0 };
    const second = (w: typeof weights, row: number) =>
      [...fieldedNeighbours(pages, 2, w).labels.subarray(row * 2, row * 2 + 2)].find(
        (r) => r !== row,
      );
    expect(second(plain, 0)).toBe(2);
    expect(second({ ...plain, titlePhrase: 1 }, 0)).toBe(1);
    expect(second({ ...plain, titlePhrase: 1 }, 1)).toBe(0);
  });

  it('rescores a candidate pool with the weighted cosine of dense vectors', () => {
    // Three rows, pool of all three; the vectors favour row 2 for row 0.
    const pool = {
      labels: Int32Array.from([0, 1, 2, 1, 0, -1, 2, 0, 1]),
      scores: Float32Array.from([1, 0.5, 0.4, 1, 0.5, 0, 1, 0.4, 0.3]),
      k: 3,
    };
    const vectors = Float32Array.from([1, 0, 0, 1, 1, 0]);
    const rescored = rescorePool(pool, vectors, 2, 0.5, 2);
    expect(rescored.k).toBe(2);
    expect([...rescored.labels]).toEqual([0, 2, 1, 0, 2, 0]);
    expect([...rescored.scores].map((s) => +s.toFixed(4))).toEqual([1.5, 0.9, 1.5, 0.5, 1.5, 0.9]);
  });

  it('adds the latent (per-tenant LSA) cosine to the lexical score of every candidate', () => {
    const pages = topicPosts('t', 24, 5).map((p) => post(p.title, p.body));
    const lexical = fieldedNeighbours(pages, pages.length, weights);
    const latent = fieldedNeighbours(pages, 5, { ...weights, latent: 0.3 });
    const lsa = trainLsa(pages.map((p) => p.text));
    const vectors = lsaEmbeddings(
      lsa,
      pages.map((p) => lexicalTerms(p.text)),
    );
    const cos = (a: number, b: number) =>
      vectors
        .subarray(a * lsa.dim, (a + 1) * lsa.dim)
        .reduce((s, x, d) => s + x * vectors[b * lsa.dim + d]!, 0);
    pages.forEach((_, row) => {
      const expected = [...lexical.labels.subarray(row * lexical.k, (row + 1) * lexical.k)]
        .map((other, j) => ({
          other,
          score: lexical.scores[row * lexical.k + j]! + 0.3 * cos(row, other),
        }))
        .filter((c) => c.other >= 0)
        .sort((a, b) => b.score - a.score || a.other - b.other)
        .slice(0, 5);
      expect([...latent.labels.subarray(row * 5, row * 5 + 5)]).toEqual(
        expected.map((c) => c.other),
      );
      expected.forEach((c, j) => expect(latent.scores[row * 5 + j]).toBeCloseTo(c.score, 4));
    });
  });

  it('compares titles by character trigrams too', () => {
    expect(characterNgrams(' Ｇｅｔ  IP ')).toEqual(['get', 'et ', 't i', ' ip']);
    expect(characterNgrams('ab')).toEqual([]);
  });
});

describe('lists computed with pauses for the event loop (runPaced, as the batch steps compute them)', () => {
  // A real tenant's worth of text: the demo's pages recombined, some with exact copies.
  const posts = variedDemoPosts('big', 1000).map((p) =>
    toSnapshotPost({ ...p, deleted: false }, 100_000),
  );
  posts.push(...posts.slice(0, 20).map((p) => ({ ...p, postId: `copy-${p.postId}` })));
  const interactions: Interaction[] = posts.slice(0, 60).flatMap((p, i) =>
    [`u${i % 7}`, `u${i % 5}`].map((userId) => ({
      tenantId: 'big',
      userId,
      postId: p.postId,
      type: 'view',
      ts: p.createdAt,
    })),
  );
  const config = parseConfig({}, process.cwd());
  // Every ranking the default lists can compute: the neighbour lists and the latent pool too.
  const weights = { ...config.fielded, sharedNeighbours: 0.1, latent: 0.3 };
  const lsa = trainLsa(posts.map((p) => p.text));
  const latent = (_texts: string[], terms: string[][]) => ({
    vectors: lsaEmbeddings(lsa, terms),
    dim: lsa.dim,
  });

  it('the default lists are the same paced as in one go, and every ranking pauses', async () => {
    const stages = new Set<string>();
    const paced = await runPaced(fieldedListSteps(posts, interactions, 10, weights, latent), {
      everyMs: 0,
      onPause: (p) => stages.add(p.stage),
    });
    expect(paced).toEqual(fieldedLists(posts, interactions, 10, weights, latent));
    // Every ranking pauses (and every pass over the posts before them: test/pacing.test.ts).
    const rankings = ['titles', 'neighbour lists', 'pool', 'latent', 'rank'];
    expect([...stages].filter((stage) => rankings.includes(stage))).toEqual([
      'titles',
      'neighbour lists',
      'pool',
      'latent',
    ]);
    // The default weights rank once, in the stage the others do not name.
    const defaults = new Set<string>();
    const lists = await runPaced(fieldedListSteps(posts, [], 10, config.fielded), {
      everyMs: 0,
      onPause: (p) => defaults.add(p.stage),
    });
    expect(lists).toEqual(fieldedLists(posts, [], 10, config.fielded));
    expect([...defaults].filter((stage) => rankings.includes(stage))).toEqual(['titles', 'rank']);
  });

  it('the lexical lists are the same paced as in one go', async () => {
    const pauses = new Map<string, number>();
    const paced = await runPaced(lexicalListSteps(posts, 10), {
      everyMs: 0,
      onPause: (p) => pauses.set(p.stage, (pauses.get(p.stage) ?? 0) + 1),
    });
    expect(paced).toEqual(lexicalLists(posts, 10));
    // One pause after each distinct text (the copies share theirs) in each pass: tokenising,
    // counting its terms, vectorising, indexing, ranking its row.
    expect(Object.fromEntries(pauses)).toEqual({
      tokenise: 1000,
      'text: vocabulary': 1000,
      'text: vectors': 1000,
      'rank: index': 1000,
      rank: 1000,
    });
  });

  it('stops when onPause throws (a cancelled step)', async () => {
    let pauses = 0;
    const lists = runPaced(fieldedListSteps(posts, [], 10, config.fielded), {
      everyMs: 0,
      onPause: () => {
        pauses += 1;
        if (pauses === 3) throw new Error('cancelled');
      },
    });
    await expect(lists).rejects.toThrow('cancelled');
    expect(pauses).toBe(3);
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

  it('blends co-engagement into text lists by each post’s evidence', () => {
    const text = [
      {
        postId: 'a',
        items: [
          { postId: 't', score: 0.8 },
          { postId: 'b', score: 0.4 },
        ],
      },
      { postId: 'z', items: [{ postId: 't', score: 0.5 }] },
      { postId: 'b', items: [] },
      { postId: 't', items: [] },
    ];
    // a: 3 users, all of whom also engaged with b; z: nobody.
    const interactions = ['u1', 'u2', 'u3'].flatMap((u) => [event(u, 'a'), event(u, 'b')]);
    const [a, z] = blendLists(text, interactions, 5, { evidenceUsers: 1 });
    expect(blendLists(text, interactions, 5, { evidenceUsers: 1 }).length).toBe(4);
    // w = 3 / (3 + 1) = 0.75: b = 0.25 * 0.4/0.8 + 0.75 * 1/1; t = 0.25 * 1.
    expect(a!.items).toEqual([
      { postId: 'b', score: 0.875 },
      { postId: 't', score: 0.25 },
    ]);
    expect(z).toBe(text[1]);
    expect(blendLists(text, [], 5)).toBe(text);
    // Exact copies (a2 of a, b2 of b) are one item, and a post's own copy is no item.
    const copies = ['u1', 'u2', 'u3'].flatMap((u) => [
      event(u, 'a'),
      event(u, 'a2'),
      event(u, 'b2'),
    ]);
    const withCopies = [...text, { postId: 'a2', items: [] }, { postId: 'b2', items: [] }];
    const [merged] = blendLists(withCopies, copies, 5, {
      evidenceUsers: 1,
      representative: (id) => id.replace(/2$/, ''),
    });
    expect(merged!.items.map((i) => i.postId)).toEqual(['b', 't']);
    // Less evidence, more text: with 10 users' worth of doubt, t stays first.
    expect(blendLists(text, interactions, 5, { evidenceUsers: 10 })[0]!.items[0]!.postId).toBe('t');
  });
});
