import { describe, expect, it } from 'vitest';
import { evaluateLists, listOverlap, macroAverage, relatedSets } from '../core/evaluation.js';
import { evaluate, summaryJson } from '../scripts/evaluate.js';
import { tempDir, topicPosts, writeJsonl } from './helpers/fixtures.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { evaluateSuite, formatSuite, suiteRatios } from '../scripts/evaluate-suite.js';
import {
  combinations,
  formatSweep,
  parseSweepGrid,
  sweepFielded,
} from '../scripts/evaluate-sweep.js';
import { parseConfig } from '../core/config.js';

describe('metrics', () => {
  const related = relatedSets(
    [
      ['a', 'b'],
      ['a', 'c'],
      ['d', 'e'],
      ['x', 'unknown'],
    ],
    new Set(['a', 'b', 'c', 'd', 'e', 'x']),
  );

  it('computes recall@k, nDCG@k and MRR by hand-checked values', () => {
    const lists = new Map([
      ['a', ['c', 'z', 'b']], // hits at ranks 1 and 3
      ['b', ['z', 'a']], // hit at rank 2
      ['c', ['z', 'y']], // no hit
      ['d', ['e']],
      ['e', ['q', 'r', 'd']], // hit at rank 3, beyond k = 2
    ]);
    const m = evaluateLists(lists, related, new Set(['a', 'b', 'c', 'd', 'e', 'x']), 2);
    expect(m.queries).toBe(5);
    // recall@2: a 1/2, b 1, c 0, d 1, e 0
    expect(m.recall).toBeCloseTo((0.5 + 1 + 0 + 1 + 0) / 5, 10);
    const ideal2 = 1 + 1 / Math.log2(3);
    // nDCG@2: a = 1/ideal2, b = (1/log2 3)/1, c 0, d 1, e 0
    expect(m.ndcg).toBeCloseTo((1 / ideal2 + 1 / Math.log2(3) + 0 + 1 + 0) / 5, 10);
    expect(m.mrr).toBeCloseTo((1 + 0.5 + 0 + 1 + 0) / 5, 10);
    // the top-2 lists name c, a and e of the 6-post catalogue (z, y, q, r are not in it)
    expect(m.coverage).toBeCloseTo(3 / 6, 10);
  });

  it('measures overlap and macro-averages over tenants with queries', () => {
    const a = new Map([
      ['p', ['1', '2']],
      ['q', ['3']],
    ]);
    const b = new Map([
      ['p', ['2', '4']],
      ['q', ['3']],
    ]);
    expect(listOverlap(a, b, 2)).toBeCloseTo((1 / 3 + 1) / 2, 10);
    const empty = { queries: 0, recall: 0, ndcg: 0, mrr: 0, coverage: 0 };
    expect(
      macroAverage([{ queries: 2, recall: 0.5, ndcg: 0.4, mrr: 1, coverage: 0.2 }, empty]),
    ).toEqual({ tenants: 1, recall: 0.5, ndcg: 0.4, mrr: 1, coverage: 0.2 });
  });
});

describe('npm run evaluate', () => {
  it('runs the pipeline on the items, is deterministic, and the embedding lists beat popularity on topical pairs', async () => {
    const tmp = tempDir();
    const posts = [...topicPosts('t1', 40, 1), ...topicPosts('t2', 24, 2)];
    const items = writeJsonl(
      `${tmp.dir}/items.jsonl`,
      posts.map((p) => ({
        tenant: p.tenantId,
        id: p.postId,
        title: p.title,
        body: p.body,
        extra: 1,
      })),
    );
    const pairs = ['tenant\ta\tb'];
    for (const p of posts)
      for (const q of posts)
        if (p.tenantId === q.tenantId && p.topic === q.topic && p.postId < q.postId)
          pairs.push(`${p.tenantId}\t${p.postId}\t${q.postId}`);
    writeFileSync(`${tmp.dir}/pairs.tsv`, pairs.join('\n') + '\n');
    const algorithms = ['embedding', 'fielded', 'popular'];
    const first = summaryJson(await evaluate(items, `${tmp.dir}/pairs.tsv`, algorithms, 5));
    const second = summaryJson(await evaluate(items, `${tmp.dir}/pairs.tsv`, algorithms, 5));
    expect(second).toEqual(first);
    const e = first.embedding as { macroNdcg: number; tenants: number };
    expect(e.tenants).toBe(2);
    expect(e.macroNdcg).toBeGreaterThan((first.popular as { macroNdcg: number }).macroNdcg + 0.3);
    const f = first.fielded as { macroNdcg: number };
    expect(f.macroNdcg).toBeGreaterThan((first.popular as { macroNdcg: number }).macroNdcg + 0.3);
    expect(first.default).toEqual({ algorithm: 'fielded', ...f });
    tmp.cleanup();
  }, 60_000);
});

describe('npm run evaluate -- --all-datasets', () => {
  it('takes each ratio against the same set’s baseline and names the worst set', () => {
    const sets = [
      { name: 'a', lang: 'en', tenants: 1, ndcg: { lexical: 0.5, fielded: 0.6 } },
      { name: 'b', lang: 'ja', tenants: 2, ndcg: { lexical: 0.4, fielded: 0.3 } },
    ];
    const ratios = suiteRatios(sets, ['lexical', 'fielded']);
    expect(ratios.lexical).toEqual({ perSet: { a: 1, b: 1 }, worst: 1, worstSet: 'a' });
    expect(ratios.fielded!.perSet.a).toBeCloseTo(1.2);
    expect(ratios.fielded!.worst).toBeCloseTo(0.75);
    expect(ratios.fielded!.worstSet).toBe('b');
    const table = formatSuite({ k: 10, sets, ratios });
    expect(table).toContain('fielded\t0.600 (1.20x)\t0.300 (0.75x)\t0.75x\tb');
    expect(table).toContain('best worst ratio: lexical (1.00x)');
  });

  /** A cached set of topical posts: related = same topic. */
  function cachedSet(dataDir: string, name: string, seed: number) {
    const posts = topicPosts('en-t1', 30, seed);
    const dir = `${dataDir}/${name}`;
    mkdirSync(dir);
    writeJsonl(
      `${dir}/items.jsonl`,
      posts.map((p) => ({ tenant: p.tenantId, id: p.postId, title: p.title, body: p.body })),
    );
    const pairs = ['tenant\ta\tb'];
    for (const p of posts)
      for (const q of posts)
        if (p.topic === q.topic && p.postId < q.postId)
          pairs.push(`en-t1\t${p.postId}\t${q.postId}`);
    writeFileSync(`${dir}/pairs.tsv`, pairs.join('\n') + '\n');
  }

  it('runs the batch on a cached set and scores every algorithm against the baseline', async () => {
    const tmp = tempDir();
    cachedSet(tmp.dir, 'man-pages-en', 3);
    const suite = await evaluateSuite({
      sets: ['man-pages-en'],
      algorithms: ['popular'],
      k: 5,
      dataDir: tmp.dir,
    });
    expect(suite.sets.map((s) => [s.name, s.tenants])).toEqual([['man-pages-en', 1]]);
    const { lexical, popular } = suite.sets[0]!.ndcg;
    expect(lexical).toBeGreaterThan(popular! + 0.3);
    expect(suite.ratios.popular!.worst).toBeCloseTo(popular! / lexical!);
    await expect(
      evaluateSuite({ sets: ['nope'], algorithms: [], k: 5, dataDir: tmp.dir }),
    ).rejects.toThrow(/Unknown dataset "nope"/);
    tmp.cleanup();
  }, 60_000);

  it('sweeps fielded weights in memory with the figures of the real batch, and checks the choice leaving one set out', async () => {
    const tmp = tempDir();
    cachedSet(tmp.dir, 'man-pages-en', 3);
    cachedSet(tmp.dir, 'man-pages-ja', 4);
    const defaults = parseConfig({}, tmp.dir).fielded;
    const grid = parseSweepGrid(`containment=0,${defaults.containment} titleRepeats=0,3`, defaults);
    const sets = ['man-pages-en', 'man-pages-ja'];
    const result = sweepFielded({ grid, sets, k: 5, dataDir: tmp.dir });
    expect(result.sets).toEqual(sets);
    expect(result.rows.map((r) => [r.weights.containment, r.weights.titleRepeats])).toEqual([
      [0, 0],
      [0, 3],
      [defaults.containment, 0],
      [defaults.containment, 3],
    ]);
    // The row with the configured weights is what the batch itself scores.
    const batch = await evaluateSuite({ sets, algorithms: ['fielded'], k: 5, dataDir: tmp.dir });
    const configured = result.rows.find(
      (r) => r.weights.containment === defaults.containment && r.weights.titleRepeats === 0,
    )!;
    configured.ratios.forEach((ratio, i) =>
      expect(ratio).toBeCloseTo(batch.ratios.fielded!.perSet[result.sets[i]!]!, 9),
    );
    // Held out: the weights with the best ratio on the other set.
    for (const [held, other] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const best = Math.max(...result.rows.map((r) => r.ratios[other]!));
      const loo = result.leaveOneOut[held]!;
      expect(loo.othersWorst).toBe(best);
      expect(result.rows.find((r) => r.weights === loo.weights)!.ratios[other]).toBe(best);
      expect(loo.heldRatio).toBe(result.rows.find((r) => r.weights === loo.weights)!.ratios[held]);
    }
    const table = formatSweep(result, grid);
    const worst = Math.max(...result.rows.map((r) => r.worst));
    expect(table).toContain(`(${worst.toFixed(3)}x)`);
    expect(table).toContain('held out\tweights\theld-out ratio\tworst of the others');
    tmp.cleanup();
  }, 60_000);

  it('names a bad sweep weight or value', () => {
    const defaults = parseConfig({}, '.').fielded;
    expect(() => parseSweepGrid('idfPowr=1,2', defaults)).toThrow(
      /"idfPowr" is not a fielded weight.*idfPower/,
    );
    expect(() => parseSweepGrid('idfPower=1,x', defaults)).toThrow(
      /give idfPower a comma-separated list/,
    );
    expect(() => parseSweepGrid(' ', defaults)).toThrow(/name at least one weight/);
    expect(combinations({ idfPower: [1, 2], leadingTerm: [0, 0.5, 1] }, defaults)).toHaveLength(6);
  });
});
