import { describe, expect, it, vi } from 'vitest';
import {
  drawResamples,
  evaluateLists,
  listOverlap,
  macroAverage,
  percentileInterval,
  relatedSets,
  resampledMacro,
} from '../core/evaluation.js';
import {
  evaluate,
  evaluateCommand,
  formatTable,
  latentModelDir,
  summaryJson,
} from '../scripts/evaluate.js';
import { runOsusume } from './helpers/cli.js';
import { loadLsaEncoder, tempDir, topicPosts, writeJsonl } from './helpers/fixtures.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import {
  evaluateSuite,
  formatSuite,
  ratioBootstrap,
  suiteFiles,
  suiteRatios,
} from '../scripts/evaluate-suite.js';
import {
  combinations,
  decide,
  formatSweep,
  parseSweepGrid,
  signed,
  sweepFielded,
  type SweepResult,
} from '../scripts/evaluate-sweep.js';
import { parseConfig } from '../core/config.js';
import { trainLsa } from '../core/model/lsa.js';

describe('metrics', () => {
  const related = relatedSets(
    [
      ['a', 'b'],
      ['a', 'c'],
      ['d', 'e'],
      ['x', 'unknown'],
    ],
    new Set(['a', 'b', 'c', 'd', 'e', 'x']),
    (id) => id,
  );

  it('judges relevance on texts: a copy of a related post is that post, a copy of the query is none', () => {
    // b2 and b3 are copies of b's text, which lists show as b; a2 is a copy of a.
    const shown = new Map([
      ['b2', 'b'],
      ['b3', 'b'],
      ['a2', 'a'],
    ]);
    const byText = relatedSets(
      [
        ['a', 'b2'],
        ['a', 'b3'],
        ['a', 'a2'],
        ['a', 'c'],
        ['a2', 'd'],
      ],
      new Set(['a', 'a2', 'b', 'b2', 'b3', 'c', 'd']),
      (id) => shown.get(id) ?? id,
    );
    expect(byText.get('a')).toEqual(new Set(['b', 'c']));
    expect(byText.get('a2')).toEqual(new Set(['d']));
    expect(byText.get('b2')).toEqual(new Set(['a']));
    expect(byText.has('b')).toBe(false);
    // A list showing b (the copy lists show) hits; the ideal counts two related texts, not three posts.
    const m = evaluateLists(
      new Map([['a', ['b', 'c']]]),
      new Map([['a', byText.get('a')!]]),
      new Set(),
      2,
    );
    expect(m.ndcg).toBeCloseTo(1, 10);
  });

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
    expect(m.ndcgPerQuery).toHaveLength(5);
    expect(m.ndcgPerQuery.reduce((a, b) => a + b, 0) / 5).toBeCloseTo(m.ndcg, 12);
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
    const empty = { queries: 0, recall: 0, ndcg: 0, mrr: 0, coverage: 0, ndcgPerQuery: [] };
    const two = {
      queries: 2,
      recall: 0.5,
      ndcg: 0.4,
      mrr: 1,
      coverage: 0.2,
      ndcgPerQuery: [0, 0.8],
    };
    expect(macroAverage([two, empty])).toEqual({
      tenants: 1,
      recall: 0.5,
      ndcg: 0.4,
      mrr: 1,
      coverage: 0.2,
    });
  });
});

describe("paired bootstrap of a set's ratio", () => {
  it('resamples queries within each tenant and keeps the macro mean over tenants', () => {
    // Tenant A: one query (0.2), always drawn; tenant B: [0, 1], drawn twice with replacement.
    const scores = [[0.2], [0, 1]];
    const draws = drawResamples([1, 2], 2000, 7);
    const macro = [...resampledMacro(scores, draws)].map((x) => +x.toFixed(9));
    const share = (v: number) => macro.filter((x) => x === v).length / macro.length;
    // B's mean is 0, 0.5 or 1 (1/4, 1/2, 1/4), so the macro is 0.1, 0.35 or 0.6, nothing else.
    expect(share(0.1) + share(0.35) + share(0.6)).toBe(1);
    expect(share(0.35)).toBeGreaterThan(0.45);
    expect(share(0.35)).toBeLessThan(0.55);
    expect(share(0.1)).toBeGreaterThan(0.2);
    expect(share(0.6)).toBeGreaterThan(0.2);
  });

  it('gives the noise of the ratio, is paired, and is the same for the same seed', () => {
    const baseline = [Array.from({ length: 40 }, () => 0.5)];
    const ratios = ratioBootstrap('a-set', baseline);
    // Paired: an algorithm 1.1x the baseline on every query is 1.1x in every resample.
    const [lo, hi] = percentileInterval(ratios([baseline[0]!.map((x) => x * 1.1)]));
    expect(lo).toBeCloseTo(1.1, 12);
    expect(hi).toBeCloseTo(1.1, 12);
    // Half the queries at 1, half at 0: ratio 1, standard error 0.5 / sqrt(40) / 0.5 = 0.16.
    const coin = [Array.from({ length: 40 }, (_, i) => i % 2)];
    const interval = percentileInterval(ratios(coin));
    expect(interval[0]).toBeLessThan(1);
    expect(interval[1]).toBeGreaterThan(1);
    expect(interval[0]).toBeGreaterThan(0.55);
    expect(interval[1]).toBeLessThan(1.45);
    expect(interval[1] - interval[0]).toBeGreaterThan(0.4);
    expect(percentileInterval(ratioBootstrap('a-set', baseline)(coin))).toEqual(interval);
    expect(percentileInterval(ratioBootstrap('another-set', baseline)(coin))).not.toEqual(interval);
    expect(() => resampledMacro([[1, 2, 3]], drawResamples([2], 10, 1))).toThrow(/another count/);
  });

  it('changes the default only when the paired difference of worst ratios excludes 0', () => {
    const w = (idfPower: number) => ({ ...parseConfig({}, '.').fielded, idfPower });
    const row = (weights: ReturnType<typeof w>, worst: number, interval: [number, number]) => ({
      weights,
      ratios: [worst],
      intervals: [[worst, worst] as [number, number]],
      worst,
      difference: worst - 1,
      differenceInterval: interval,
      setDifferences: [],
    });
    const incumbent = w(1);
    const within = [row(incumbent, 1, [0, 0]), row(w(2), 1.01, [-0.004, 0.02])];
    expect(decide(within, incumbent)).toEqual({ change: false, weights: incumbent });
    const beyond = [...within, row(w(3), 1.005, [0.001, 0.01])];
    expect(decide(beyond, incumbent)).toEqual({ change: true, weights: w(3) });
  });

  it('prints a difference that is not 0 with the digits that show it', () => {
    expect([0.0123, -0.0123, 0, 0.0005].map(signed)).toEqual([
      '+0.012',
      '-0.012',
      '+0.000',
      '+0.001',
    ]);
    // A verdict "beyond noise" on [+0.000, +0.001] would hide why: its lower bound is not 0.
    expect([0.00004, -0.00012, 0.00049].map(signed)).toEqual(['+0.000040', '-0.00012', '+0.00049']);
  });
});

/** Tenant t's eight posts on two topics as a labelled set's items, and two pairs, in `dir`. */
function smallSet(dir: string) {
  const posts = topicPosts('t', 8, 4).map((p) => ({
    tenant: p.tenantId,
    id: p.postId,
    title: p.title,
    body: p.body,
  }));
  const items = writeJsonl(`${dir}/items.jsonl`, posts);
  const pairs = `${dir}/pairs.tsv`;
  writeFileSync(pairs, 'tenant\ta\tb\nt\tp0000\tp0004\nt\tp0001\tp0005\n');
  return { posts, items, pairs };
}

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

  it('counts a list that shows the copy of a related post as a hit (the batch shows one copy of each text)', async () => {
    const tmp = tempDir();
    const item = (id: string, title: string, body: string) => ({ tenant: 't', id, title, body });
    const items = writeJsonl(`${tmp.dir}/items.jsonl`, [
      item('q', 'Sockets', 'open a socket and bind an address to the socket'),
      // x1 and x2 are one text: lists show x1, the smaller id; the pair names x2.
      item('x1', 'Socket options', 'set options of a socket bound to an address'),
      item('x2', 'Socket options', 'set options of a socket bound to an address'),
      item('y', 'Colours', 'paint the walls in red and blue'),
      item('z', 'Gardens', 'water the plants every morning'),
    ]);
    writeFileSync(`${tmp.dir}/pairs.tsv`, 'tenant\ta\tb\nt\tq\tx2\nt\tx1\tx2\n');
    const result = await evaluate(items, `${tmp.dir}/pairs.tsv`, ['fielded'], 1);
    // Queries q (related: x2, shown as x1) and x2 (related: q); x1-x2 is one text, not a pair.
    expect(result.perTenant.t!.fielded).toMatchObject({ queries: 2, recall: 1, ndcg: 1 });
    tmp.cleanup();
  }, 60_000);
});

describe('npm run evaluate -- --all-datasets', () => {
  it('takes each ratio against the same set’s baseline and names the worst set', () => {
    const one: [number, number] = [1, 1];
    const sets = [
      {
        name: 'a',
        lang: 'en',
        tenants: 1,
        ndcg: { lexical: 0.5, fielded: 0.6 },
        intervals: { lexical: one, fielded: [1.1, 1.3] as [number, number] },
      },
      {
        name: 'b',
        lang: 'ja',
        tenants: 2,
        ndcg: { lexical: 0.4, fielded: 0.3 },
        intervals: { lexical: one, fielded: [0.6, 0.9] as [number, number] },
      },
    ];
    const ratios = suiteRatios(sets, ['lexical', 'fielded']);
    expect(ratios.lexical).toEqual({ perSet: { a: 1, b: 1 }, worst: 1, worstSet: 'a' });
    expect(ratios.fielded!.perSet.a).toBeCloseTo(1.2);
    expect(ratios.fielded!.worst).toBeCloseTo(0.75);
    expect(ratios.fielded!.worstSet).toBe('b');
    const table = formatSuite({ k: 10, minPosts: 2, sets, ratios });
    expect(table).toContain(
      'fielded\t0.600 (1.20x [1.10, 1.30])\t0.300 (0.75x [0.60, 0.90])\t0.75x [0.60, 0.90]\tb',
    );
    expect(table).toContain('best worst ratio: lexical (1.00x)');
    expect(table).not.toContain('only tenants');
    expect(formatSuite({ k: 10, minPosts: 20, sets, ratios })).toContain(
      'times]); only tenants of 20 posts or more\n',
    );
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
    const repeats = defaults.titleRepeats;
    const grid = parseSweepGrid(
      `containment=0,${defaults.containment} titleRepeats=${repeats},${repeats + 3}`,
      defaults,
    );
    const sets = ['man-pages-en', 'man-pages-ja'];
    const progress: string[] = [];
    const result = await sweepFielded({
      grid,
      sets: suiteFiles(sets, tmp.dir),
      k: 5,
      onProgress: (line) => progress.push(line),
    });
    expect(result.sets).toEqual(sets);
    // Each set as it is read, then each combination as it is scored.
    expect(progress.slice(0, 2)).toEqual([
      'man-pages-en: 1 tenant read',
      'man-pages-ja: 1 tenant read',
    ]);
    expect(progress.slice(2)).toHaveLength(4);
    expect(result.rows.map((r) => [r.weights.containment, r.weights.titleRepeats])).toEqual([
      [0, repeats],
      [0, repeats + 3],
      [defaults.containment, repeats],
      [defaults.containment, repeats + 3],
    ]);
    // The row with the configured weights is what the batch itself scores.
    const batch = await evaluateSuite({ sets, algorithms: ['fielded'], k: 5, dataDir: tmp.dir });
    const configured = result.rows.find(
      (r) => r.weights.containment === defaults.containment && r.weights.titleRepeats === repeats,
    )!;
    configured.ratios.forEach((ratio, i) => {
      const set = result.sets[i]!;
      expect(ratio).toBeCloseTo(batch.ratios.fielded!.perSet[set]!, 9);
      // The same resamples (seeded per set) give the batch's interval too.
      const interval = batch.sets.find((s) => s.name === set)!.intervals.fielded!;
      expect(configured.intervals[i]![0]).toBeCloseTo(interval[0], 9);
      expect(configured.intervals[i]![1]).toBeCloseTo(interval[1], 9);
    });
    // The configured weights are the incumbent: a difference of 0 to themselves in every resample.
    expect(result.incumbent).toBe(configured.weights);
    expect([configured.difference, ...configured.differenceInterval]).toEqual([0, 0, 0]);
    for (const r of result.rows) {
      expect(r.difference).toBeCloseTo(r.worst - configured.worst, 12);
      expect(r.differenceInterval[0]).toBeLessThanOrEqual(r.differenceInterval[1]);
      // Per set, the ratio's difference to the incumbent's, on the same resamples.
      r.setDifferences.forEach(({ difference, interval }, i) => {
        expect(difference).toBeCloseTo(r.ratios[i]! - configured.ratios[i]!, 12);
        expect(interval[0]).toBeLessThanOrEqual(interval[1]);
      });
    }
    expect(configured.setDifferences).toEqual(
      sets.map(() => ({ difference: 0, interval: [0, 0] })),
    );
    expect(result.verdict).toEqual(decide(result.rows, configured.weights));
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
    expect(table).toMatch(/\nverdict: (keep|change)/);
    expect(table).toContain(' (configured)\t');
    expect(table).toContain(`Δ per set: ratio minus the configured weights'`);
    expect(table).toMatch(
      /\ncontainment=0 titleRepeats=\d+\t[+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\]/,
    );
    // A grid without the configured weights gets them as a row of their own, the incumbent.
    const apart = await sweepFielded({
      grid: parseSweepGrid(`idfPower=${defaults.idfPower + 1}`, defaults),
      sets: suiteFiles(['man-pages-en'], tmp.dir),
      k: 5,
      resamples: 50,
    });
    expect(apart.rows.map((r) => r.weights.idfPower)).toEqual([
      defaults.idfPower + 1,
      defaults.idfPower,
    ]);
    expect(apart.incumbent).toBe(apart.rows[1]!.weights);
    tmp.cleanup();
  }, 60_000);

  it('rescores the latent channel with a given encoder: its own LSA model, exported, gives the same figures', async () => {
    const tmp = tempDir();
    cachedSet(tmp.dir, 'man-pages-en', 5);
    // The model the latent channel trains for this one-tenant set, exported as an encoder.
    const posts = topicPosts('en-t1', 30, 5);
    const lsa = trainLsa(posts.map((p) => `${p.title} ${p.body}`));
    const latentModel = await loadLsaEncoder(`${tmp.dir}/encoder`, lsa);
    const defaults = parseConfig({}, tmp.dir).fielded;
    const grid = parseSweepGrid('latent=0,1', defaults);
    const options = { grid, sets: suiteFiles(['man-pages-en'], tmp.dir), k: 5, resamples: 50 };
    const own = await sweepFielded(options);
    const embed = vi.spyOn(latentModel, 'embedBatch');
    const encoded = await sweepFielded({ ...options, latentModel });
    await latentModel.release();
    // Every distinct text of the set embedded once.
    expect(embed.mock.calls.flatMap(([texts]) => texts).sort()).toEqual(
      [...new Set(posts.map((p) => `${p.title} ${p.body}`))].sort(),
    );
    expect(encoded.rows.map((r) => r.weights.latent)).toEqual([0, 1]);
    // Off, the channel needs no vectors; on, the encoder's vectors are the LSA model's, row for row.
    expect(encoded.rows[0]!.ratios).toEqual(own.rows[0]!.ratios);
    expect(encoded.rows[1]!.ratios[0]).toBeCloseTo(own.rows[1]!.ratios[0]!, 6);
    // With latentVectors "embedding", as in the batch, model.dir's encoder is the default one.
    const config = (fielded: object) =>
      parseConfig({ model: { dir: `${tmp.dir}/encoder` }, fielded }, tmp.dir);
    expect(latentModelDir(undefined, config({ latentVectors: 'embedding' }))).toBe(
      `${tmp.dir}/encoder`,
    );
    expect(latentModelDir(undefined, config({}))).toBeUndefined();
    expect(latentModelDir('other', config({ latentVectors: 'embedding' }))).toBe('other');
    const at = (dir: string) =>
      parseConfig({ model: { dir }, fielded: { latentVectors: 'embedding' } }, tmp.dir);
    mkdirSync(`${tmp.dir}/empty`);
    expect(latentModelDir(undefined, at(`${tmp.dir}/empty`))).toBeUndefined(); // the LSA model
    // A model.dir that is not there is a mistake, not a request for the LSA model.
    expect(() => latentModelDir(undefined, at(`${tmp.dir}/none`))).toThrow(
      `model.dir resolves to ${tmp.dir}/none, which does not exist.`,
    );
    tmp.cleanup();
  }, 60_000);

  it('gives each set the paired difference to the configured weights (the committed man pages)', async () => {
    const tmp = tempDir();
    const defaults = parseConfig({}, tmp.dir).fielded;
    const grid = parseSweepGrid(`containment=0,${defaults.containment}`, defaults);
    const run = (sets: string[]) => sweepFielded({ grid, sets: suiteFiles(sets, tmp.dir), k: 10 });
    const [alone, japanese] = [await run(['man-pages-en']), await run(['man-pages-ja'])];
    const both = await run(['man-pages-en', 'man-pages-ja']);
    // One set: its own difference is the worst ratio's, resample by resample.
    const without = (r: { weights: typeof defaults }) => r.weights.containment === 0;
    const single = alone.rows.find(without)!;
    expect(single.setDifferences[0]!.difference).toBeCloseTo(single.difference, 12);
    expect(single.setDifferences[0]!.interval).toEqual(single.differenceInterval);
    // Two sets: each set's difference is its own ratio's, on the same resamples as before.
    const row = both.rows.find(without)!;
    const configured = both.rows.find((r) => !without(r))!;
    row.setDifferences.forEach(({ difference }, i) =>
      expect(difference).toBeCloseTo(row.ratios[i]! - configured.ratios[i]!, 12),
    );
    expect(row.setDifferences[0]).toEqual(single.setDifferences[0]);
    expect(row.setDifferences[1]).toEqual(japanese.rows.find(without)!.setDifferences[0]);
    // Without the containment channel the English man pages lose beyond noise.
    expect(row.setDifferences[0]!.interval[1]).toBeLessThan(0);
    expect(formatSweep(both, grid)).toMatch(
      /\ncontainment=0\t-0\.\d{3} \[-0\.\d{3}, -0\.\d{3}\] -\t/,
    );
    tmp.cleanup();
  }, 60_000);

  it("sweeps the user's own labelled set: the figures of the same files as an evaluation set", async () => {
    const tmp = tempDir();
    cachedSet(tmp.dir, 'man-pages-en', 6);
    const defaults = parseConfig({}, tmp.dir).fielded;
    const sweep = `containment=0,${defaults.containment}`;
    const grid = parseSweepGrid(sweep, defaults);
    const suite = await sweepFielded({ grid, sets: suiteFiles(['man-pages-en'], tmp.dir), k: 5 });
    const items = `${tmp.dir}/man-pages-en/items.jsonl`;
    const pairs = `${tmp.dir}/man-pages-en/pairs.tsv`;
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const progress = vi.spyOn(console, 'error').mockImplementation(() => {});
    await evaluateCommand({ items, pairs, sweep, k: 5, json: true });
    const own = JSON.parse(String(log.mock.calls.at(-1)![0])) as typeof suite;
    log.mockRestore();
    progress.mockRestore();
    expect(own.sets).toEqual([items]);
    expect(own.rows.map((r) => r.ratios)).toEqual(suite.rows.map((r) => r.ratios));
    // One set has no other sets to choose on: no leave-one-out check, in the result or the table.
    expect(own.leaveOneOut).toEqual([]);
    expect(formatSweep(suite, grid)).not.toContain('leave one set out');
    await expect(evaluateCommand({ sweep, k: 5 })).rejects.toThrow(
      /--all-datasets\) or your own labelled set: pass --items/,
    );
    tmp.cleanup();
  }, 60_000);

  it('scores only the tenants with --min-posts posts or more, in the batch and in the sweep', async () => {
    const tmp = tempDir();
    const posts = [...topicPosts('big', 30, 7), ...topicPosts('small', 6, 8)];
    const items = writeJsonl(
      `${tmp.dir}/items.jsonl`,
      posts.map((p) => ({ tenant: p.tenantId, id: p.postId, title: p.title, body: p.body })),
    );
    const pairs = `${tmp.dir}/pairs.tsv`;
    const lines = ['tenant\ta\tb'];
    for (const p of posts)
      for (const q of posts)
        if (
          p.tenantId === 'big' &&
          q.tenantId === 'big' &&
          p.topic === q.topic &&
          p.postId < q.postId
        )
          lines.push(`big\t${p.postId}\t${q.postId}`);
    const small = posts.filter((p) => p.tenantId === 'small');
    small.slice(1).forEach((p, i) => lines.push(`small\t${small[i]!.postId}\t${p.postId}`));
    writeFileSync(pairs, lines.join('\n') + '\n');
    const algorithms = ['lexical', 'fielded'];
    const every = await evaluate(items, pairs, algorithms, 5);
    expect(Object.keys(every.perTenant)).toEqual(['big', 'small']);
    expect(every.belowMinPosts).toBe(0);
    const served = await evaluate(items, pairs, algorithms, 5, { minPosts: 20 });
    expect(Object.keys(served.perTenant)).toEqual(['big']);
    expect(served.perTenant.big).toEqual(every.perTenant.big);
    expect(served.macro.fielded!.ndcg).toBe(every.perTenant.big!.fielded!.ndcg);
    expect(formatTable(served)).toContain('Left out: 1 tenant with fewer posts than --min-posts.');
    expect(formatTable(every)).not.toContain('--min-posts');
    // The table's first line says which tenants it scored, as the suite's and the sweep's do.
    expect(formatTable(served).split('\n')[0]).toBe('k = 5; only tenants of 20 posts or more');
    expect(formatTable(every).split('\n')[0]).toBe('k = 5');
    // The sweep leaves out the same tenants: its configured row is the batch's ratio.
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const progress = vi.spyOn(console, 'error').mockImplementation(() => {});
    const sweep = { items, pairs, sweep: 'latent=0', k: 5, json: true };
    await evaluateCommand({ ...sweep, minPosts: 20 });
    const sweptServed = JSON.parse(String(log.mock.calls.at(-1)![0])) as SweepResult;
    const servedTable = String(log.mock.calls.at(-2)![0]);
    await evaluateCommand(sweep);
    const sweptEvery = JSON.parse(String(log.mock.calls.at(-1)![0])) as SweepResult;
    log.mockRestore();
    progress.mockRestore();
    expect(sweptServed.minPosts).toBe(20);
    expect(sweptServed.rows[0]!.ratios[0]).toBeCloseTo(
      served.macro.fielded!.ndcg / served.macro.lexical!.ndcg,
      9,
    );
    expect(sweptEvery.rows[0]!.ratios[0]).toBeCloseTo(
      every.macro.fielded!.ndcg / every.macro.lexical!.ndcg,
      9,
    );
    expect([sweptServed.tenants, sweptEvery.tenants]).toEqual([[1], [2]]);
    expect(servedTable).toMatch(/only tenants of 20 posts or more;\n.*\n.*\n\(tenants\)\t1\t/);
    for (const command of [{ items, pairs, k: 5 }, sweep])
      await expect(evaluateCommand({ ...command, minPosts: 31 })).rejects.toThrow(
        `No tenant of ${items} has 31 posts or more: lower --min-posts (default 2).`,
      );
    // Tenants big enough, but none with a pair: an error, not a table of zeros (the sweep's NaN).
    const smallPairs = `${tmp.dir}/small-pairs.tsv`;
    writeFileSync(smallPairs, `tenant\ta\tb\nsmall\t${small[0]!.postId}\t${small[1]!.postId}\n`);
    for (const command of [
      { items, pairs: smallPairs, k: 5 },
      { ...sweep, pairs: smallPairs },
    ])
      await expect(evaluateCommand({ ...command, minPosts: 20 })).rejects.toThrow(
        `No tenant of ${items} with 20 posts or more has a pair in ${smallPairs}: lower --min-posts (default 2).`,
      );
    tmp.cleanup();
  }, 60_000);

  it('reads a labelled set saved with CRLF line ends and a byte-order mark, or gzipped, as the plain one', async () => {
    const tmp = tempDir();
    const posts = topicPosts('t', 24, 3);
    const items = writeJsonl(
      `${tmp.dir}/items.jsonl`,
      posts.map((p) => ({ tenant: p.tenantId, id: p.postId, title: p.title, body: p.body })),
    );
    // Each post and the next of its topic.
    const related = posts.slice(4).map((p, i) => [posts[i]!, p] as const);
    const pairs = `${tmp.dir}/pairs.tsv`;
    writeFileSync(
      pairs,
      ['tenant\ta\tb', ...related.map(([a, b]) => `t\t${a.postId}\t${b.postId}`)].join('\n'),
    );
    // Users who read both posts of a pair: co-engagement the fielded lists blend in.
    const events = writeJsonl(
      `${tmp.dir}/events.jsonl`,
      related.flatMap((pair, i) =>
        pair.flatMap((p) =>
          [0, 1, 2].map((u) => ({
            tenantId: 't',
            userId: `u${i}-${u}`,
            postId: p.postId,
            type: 'view',
            ts: '2024-01-02T00:00:00Z',
          })),
        ),
      ),
    );
    const windows = (file: string) => {
      const copy = file.replace(/(\.\w+)$/, '-windows$1');
      writeFileSync(copy, '\uFEFF' + readFileSync(file, 'utf8').replace(/\n/g, '\r\n'));
      return copy;
    };
    writeFileSync(`${events}.gz`, gzipSync(readFileSync(events)));
    const plain = await evaluate(items, pairs, ['lexical'], 5);
    expect(plain.macro.lexical!.tenants).toBe(1);
    expect(await evaluate(windows(items), windows(pairs), ['lexical'], 5)).toEqual(plain);
    const sweep = (files: { items: string; pairs: string; interactions?: string }) =>
      sweepFielded({
        grid: { idfPower: [1] },
        sets: [{ name: 'own', files }],
        k: 5,
        resamples: 20,
      }).then((r) => r.rows[0]!.ratios);
    const withEvents = await sweep({ items, pairs, interactions: events });
    expect(withEvents).not.toEqual(await sweep({ items, pairs }));
    expect(await sweep({ items, pairs, interactions: `${events}.gz` })).toEqual(withEvents);
    tmp.cleanup();
  }, 60_000);

  it('reads each post as far as the configured text limits, in the batch as in the sweep', async () => {
    const tmp = tempDir();
    const posts = topicPosts('t', 24, 5);
    // Past the first 100 characters, each post reads as another topic.
    const items = writeJsonl(
      `${tmp.dir}/items.jsonl`,
      posts.map((p, i) => ({
        tenant: p.tenantId,
        id: p.postId,
        title: p.title,
        body: `${p.body} ${posts[(i + 1) % posts.length]!.body.repeat(3)}`,
      })),
    );
    const pairs = `${tmp.dir}/pairs.tsv`;
    writeFileSync(
      pairs,
      ['tenant\ta\tb', ...posts.slice(4).map((p, i) => `t\t${posts[i]!.postId}\t${p.postId}`)].join(
        '\n',
      ),
    );
    vi.stubEnv('OSUSUME_CONFIG_YAML', 'pipeline: { maxTextChars: 100 }');
    try {
      const batch = await evaluate(items, pairs, ['lexical', 'fielded'], 5);
      const sweep = await sweepFielded({
        grid: { idfPower: [parseConfig({}, '.').fielded.idfPower] },
        sets: [{ name: 'own', files: { items, pairs } }],
        k: 5,
        resamples: 20,
      });
      expect(sweep.rows[0]!.ratios[0]).toBeCloseTo(
        batch.macro.fielded!.ndcg / batch.macro.lexical!.ndcg,
        9,
      );
    } finally {
      vi.unstubAllEnvs();
      tmp.cleanup();
    }
  }, 60_000);

  it('names the item lines and pairs it leaves out, and refuses a set with nothing to score', async () => {
    const tmp = tempDir();
    const { posts, items, pairs } = smallSet(tmp.dir);
    const clean = await evaluate(items, pairs, ['lexical'], 5);
    const messy = writeJsonl(`${tmp.dir}/messy.jsonl`, [
      ...posts,
      '{"tenant": "t", "id": "x"',
      { tenant: 't', title: 'no id' },
      { tenant: 't', id: 7 },
      { tenant: 'a b', id: 'y' },
      // A second p0000: the first line of an id is the item, whatever follows.
      { ...posts[1], id: 'p0000' },
    ]);
    const messyPairs = `${tmp.dir}/messy.tsv`;
    writeFileSync(
      messyPairs,
      'tenant\ta\tb\nt\tp0000\tp0004\nt\tp0001\tp0005\nt\tp0002\tp0002\nt\tp0003\tnope\nu\tp0000\tp0001\n',
    );
    const warn = vi.spyOn(console, 'error').mockImplementation(() => {});
    const result = await evaluate(messy, messyPairs, ['lexical'], 5);
    const warnings = warn.mock.calls.map(([line]) => String(line));
    warn.mockRestore();
    expect(result).toEqual(clean);
    expect(warnings).toEqual([
      `${messy}: left out 5 lines (line 9: not JSON; line 10: no id; line 11: its id is not a string; and 2 more); fix them to score those items.`,
      `${messyPairs}: left out 3 of its 5 pairs (t p0002 p0002: an item paired with itself; t p0003 nope: "nope" is no item of t; u p0000 p0001: no item has tenant "u"); fix them to score those items.`,
    ]);
    // An item the batch skips keeps its pairs, so it counts as a miss: said before the figures.
    const blank = writeJsonl(`${tmp.dir}/blank.jsonl`, [...posts, { tenant: 't', id: 'b' }]);
    const blankWarn = vi.spyOn(console, 'error').mockImplementation(() => {});
    const table = vi.spyOn(console, 'log').mockImplementation(() => {});
    for (const sweep of [undefined, 'idfPower=1'])
      await evaluateCommand({ items: blank, pairs, sweep, k: 5 });
    const said = blankWarn.mock.calls.map(([line]) => String(line));
    blankWarn.mockRestore();
    table.mockRestore();
    const skipLine = `${blank}: the batch skips 1 item (t b: empty, title and body are empty), each a miss in the figures; fix them so that the batch reads them.`;
    expect(said.filter((line) => line === skipLine)).toHaveLength(2);
    // A tenant the batch fails (every item of it skipped) is scored, and the exit code says so.
    const hollow = writeJsonl(`${tmp.dir}/hollow.jsonl`, [
      ...posts,
      { tenant: 'h', id: 'a' },
      { tenant: 'h', id: 'b' },
    ]);
    const hollowPairs = `${tmp.dir}/hollow.tsv`;
    writeFileSync(hollowPairs, 'tenant\ta\tb\nt\tp0000\tp0004\nh\ta\tb\n');
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    const failedRun = await evaluate(hollow, hollowPairs, ['lexical'], 5);
    quiet.mockRestore();
    expect(failedRun.perTenant.h!.lexical!.ndcg).toBe(0);
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    // Nothing to score is an error, not a table of zeros.
    const empty = writeJsonl(`${tmp.dir}/empty.jsonl`, []);
    await expect(evaluate(empty, pairs, ['lexical'], 5)).rejects.toThrow(
      `${empty} holds no item: write one JSON object a line with tenant, id, title and body`,
    );
    const wrong = `${tmp.dir}/wrong.tsv`;
    writeFileSync(wrong, 'tenant\ta\tb\nT\tp0000\tp0004\n');
    const copies = writeJsonl(`${tmp.dir}/copies.jsonl`, [posts[0], { ...posts[0], id: 'copy' }]);
    const copyPairs = `${tmp.dir}/copies.tsv`;
    writeFileSync(copyPairs, 'tenant\ta\tb\nt\tp0000\tcopy\n');
    for (const sweep of [undefined, 'idfPower=1'])
      await expect(
        evaluateCommand({ items: copies, pairs: copyPairs, sweep, k: 5 }),
      ).rejects.toThrow(
        `Every pair of ${copyPairs} joins two copies of one text of ${copies}, which lists show once: pair items with different texts.`,
      );
    for (const sweep of [undefined, 'idfPower=1'])
      await expect(evaluateCommand({ items, pairs: wrong, sweep, k: 5 })).rejects.toThrow(
        `No pair of ${wrong} names two items of one tenant of ${items} (T p0000 p0004: no item has tenant "T"): its tenant, a and b columns must hold the tenant and ids of the items.`,
      );
    tmp.cleanup();
  }, 60_000);

  it('says in one line per failed tenant what failed and what to do, the batch log lines at debug only', async () => {
    const tmp = tempDir();
    const { posts } = smallSet(tmp.dir);
    // Every item of tenant h is empty: the batch fails h at extract.
    writeJsonl(`${tmp.dir}/items.jsonl`, [
      ...posts,
      { tenant: 'h', id: 'a' },
      { tenant: 'h', id: 'b' },
    ]);
    writeFileSync(`${tmp.dir}/pairs.tsv`, 'tenant\ta\tb\nt\tp0000\tp0004\nh\ta\tb\n');
    const args = [
      'evaluate',
      '--items',
      'items.jsonl',
      '--pairs',
      'pairs.tsv',
      '--algorithms',
      'lexical',
    ];
    const run = await runOsusume(args, { cwd: tmp.dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^h\tlexical\t/m);
    const failed = `tenant h failed at extract, so each of its queries counts as a miss: Tenant "h": none of its 2 rows is a valid post (empty: post "a": title and body are empty; empty: post "b": title and body are empty). Fix the rows in the warehouse. The batch read tenant h from items.jsonl: fix its items there, or leave them out, and run again.`;
    expect(run.stderr.split('\n').filter((line) => line.includes('tenant h failed'))).toEqual([
      failed,
    ]);
    // The batch's JSON lines printed the failure twice more, among the results.
    expect(run.stderr).not.toContain('{');
    const debug = await runOsusume(args, { cwd: tmp.dir, env: { OSUSUME_LOG_LEVEL: 'debug' } });
    const logged = debug.stderr.split('\n').filter((line) => line.startsWith('{'));
    expect(logged.map((line) => JSON.parse(line))).toMatchObject([
      { severity: 'ERROR', message: 'tenant failed', tenantId: 'h', step: 'extract' },
      { severity: 'ERROR', message: 'batch run had failures', failedCount: 1 },
    ]);
    tmp.cleanup();
  }, 60_000);

  it('stops before it runs anything on a model.dir that holds no whole model, as the batch does', async () => {
    const tmp = tempDir();
    smallSet(tmp.dir);
    // The export half-copied: model.onnx without its tokenizer.json.
    mkdirSync(`${tmp.dir}/models/e5-small`, { recursive: true });
    writeFileSync(`${tmp.dir}/models/e5-small/model.onnx`, 'cut short');
    writeFileSync(`${tmp.dir}/osusume.config.yaml`, 'model: { dir: models/e5-small }\n');
    const args = ['evaluate', '--items', 'items.jsonl', '--pairs', 'pairs.tsv'];
    const run = await runOsusume([...args, '--algorithms', 'embedding'], { cwd: tmp.dir });
    const model = `${tmp.dir}/models/e5-small`;
    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `osusume evaluate: The model folder ${model} has model.onnx but no tokenizer: ${model}/tokenizer.json is missing. Put the model file and tokenizer.json of one export in it (README, "Plugging in a real embedding model"), or set model.dir to a folder without a model to train one per tenant.\n`,
    });
    // A mistyped folder: the same message as the batch's, with the set scored by none.
    writeFileSync(`${tmp.dir}/osusume.config.yaml`, 'model: { dir: models/e5-smal }\n');
    const suite = ['evaluate', '--all-datasets', '--sets', 'man-pages-en'];
    const typo = await runOsusume(suite, { cwd: tmp.dir });
    expect(typo.code).toBe(1);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toMatch(
      /^osusume evaluate: model\.dir resolves to .*\/models\/e5-smal, which does not exist\./,
    );
    tmp.cleanup();
  }, 60_000);

  it('names the interaction lines it leaves out, in the sweep as the batch run does', async () => {
    const tmp = tempDir();
    const { items, pairs } = smallSet(tmp.dir);
    const event = {
      tenantId: 't',
      userId: 'u1',
      postId: 'p0000',
      type: 'view',
      ts: '2024-01-02T00:00:00Z',
    };
    const lines = [
      event,
      { ...event, postId: 'p0004' },
      '{"tenantId": "t", "userId": "u2"',
      { ...event, ts: undefined },
      { ...event, userId: 7 },
    ];
    const said = vi.spyOn(console, 'error').mockImplementation(() => {});
    const table = vi.spyOn(console, 'log').mockImplementation(() => {});
    const leftOut = async (interactions: string, sweep?: string) => {
      const algorithms = sweep ? undefined : ['coengagement'];
      await evaluateCommand({ items, pairs, interactions, sweep, algorithms, k: 5 });
      const out = said.mock.calls.map(([line]) => String(line));
      said.mockClear();
      return out.filter((line) => line.startsWith(interactions));
    };
    const events = writeJsonl(`${tmp.dir}/events.jsonl`, lines);
    const inBatch = await leftOut(events);
    expect(inBatch).toEqual([
      expect.stringMatching(
        /: left out 3 lines \(line 3: not valid JSON \(.+\); line 4: no ts; line 5: userId is a number \(7\), not a string: write ids as JSON strings\); fix them to score those interactions\.$/,
      ),
    ]);
    // The sweep left them out without a word.
    expect(await leftOut(events, 'idfPower=1')).toEqual(inBatch);
    // A row the warehouse takes and the batch then leaves out, as the batch checks it.
    const badId = writeJsonl(`${tmp.dir}/bad-id.jsonl`, [
      ...lines.slice(0, 2),
      { ...event, tenantId: 'a b' },
    ]);
    expect(await leftOut(badId, 'idfPower=1')).toEqual([
      `${badId}: left out 1 line (line 3: tenantId: must be printable characters without spaces); fix them to score those interactions.`,
    ]);
    said.mockRestore();
    table.mockRestore();
    tmp.cleanup();
  }, 60_000);

  it('names a missing or headerless file of a labelled set, and says what to do', async () => {
    const tmp = tempDir();
    const missing = `${tmp.dir}/nope.jsonl`;
    await expect(evaluateCommand({ items: missing, pairs: missing, k: 5 })).rejects.toThrow(
      `${missing} does not exist: pass the path of an existing file`,
    );
    writeFileSync(`${tmp.dir}/empty.tsv`, '');
    writeJsonl(`${tmp.dir}/items.jsonl`, [{ tenant: 't', id: '1', title: 'a', body: 'b' }]);
    await expect(
      evaluateCommand({
        items: `${tmp.dir}/items.jsonl`,
        pairs: `${tmp.dir}/empty.tsv`,
        sweep: 'latent=0',
        k: 5,
      }),
    ).rejects.toThrow('empty.tsv: the header must name tenant, a and b');
    writeFileSync(`${tmp.dir}/pairs.tsv`, 'tenant\ta\tb\n');
    const set = { items: `${tmp.dir}/items.jsonl`, pairs: `${tmp.dir}/pairs.tsv`, k: 5 };
    for (const sweep of [undefined, 'latent=0'])
      await expect(evaluateCommand({ ...set, interactions: missing, sweep })).rejects.toThrow(
        `${missing} does not exist`,
      );
    // Options that would be ignored are refused before anything runs.
    await expect(evaluateCommand({ ...set, sets: ['gimp-en'] })).rejects.toThrow(
      '--sets goes with --all-datasets (it picks which evaluation sets to score): add --all-datasets, or leave out --sets.',
    );
    await expect(evaluateCommand({ ...set, latentModel: 'models/x' })).rejects.toThrow(
      "--latent-model goes with --sweep (it rescores the sweep's latent channel): add --sweep, or leave out --latent-model.",
    );
    await expect(evaluateCommand({ ...set, allDatasets: true })).rejects.toThrow(
      '--all-datasets scores the evaluation sets, not --items/--pairs/--interactions',
    );
    await expect(
      evaluateCommand({ ...set, sweep: 'latent=0', algorithms: ['embedding'] }),
    ).rejects.toThrow(
      '--sweep scores fielded weights against lexical, not --algorithms: drop one or the other.',
    );
    tmp.cleanup();
  });

  it('names a bad sweep weight or value', () => {
    const defaults = parseConfig({}, '.').fielded;
    expect(() => parseSweepGrid('idfPowr=1,2', defaults)).toThrow(
      /"idfPowr" is not a fielded weight.*idfPower/,
    );
    expect(() => parseSweepGrid('idfPower=1,x', defaults)).toThrow(
      /give idfPower a comma-separated list/,
    );
    expect(() => parseSweepGrid(' ', defaults)).toThrow(/name at least one weight/);
    // Every value is one the configuration file could hold, named once.
    expect(() => parseSweepGrid('idfPower=1,,2', defaults)).toThrow(
      '--sweep: give idfPower a comma-separated list of numbers (idfPower=1,,2).',
    );
    expect(() => parseSweepGrid('idfPower=1=2', defaults)).toThrow(/give idfPower a comma/);
    expect(() => parseSweepGrid('idfPower=-5,1', defaults)).toThrow(
      '--sweep: idfPower=-5 is not a value fielded.idfPower takes (Too small: expected number to be >=0); choose values the configuration accepts.',
    );
    expect(() => parseSweepGrid('titleRepeats=1.5', defaults)).toThrow(
      /titleRepeats=1.5 is not a value fielded.titleRepeats takes/,
    );
    expect(() => parseSweepGrid('idfPower=1 latent=0 idfPower=2', defaults)).toThrow(
      '--sweep: idfPower is named twice; list all its values once.',
    );
    expect(() => parseSweepGrid('latent=0,0.5,0', defaults)).toThrow(
      '--sweep: latent=0,0.5,0 lists a value twice; list each once.',
    );
    // A setting that is not a number is not a weight to sweep.
    expect(() => parseSweepGrid('latentVectors=1', defaults)).toThrow(
      /"latentVectors" is not a fielded weight/,
    );
    expect(combinations({ idfPower: [1, 2], leadingTerm: [0, 0.5, 1] }, defaults)).toHaveLength(6);
  });
});
