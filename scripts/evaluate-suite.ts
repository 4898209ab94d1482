/**
 * Every evaluation set at once, so that a default is chosen on all of them and not on one:
 *   osusume evaluate --all-datasets [--sets a,b] [--algorithms fielded,...] [--k 10] [--json]
 * For each set: the real batch through `evaluate`, macro nDCG@k per algorithm, and its ratio to
 * the baseline `lexical` (plain TF-IDF cosine on the same items after the same de-duplication, in
 * the same run). Per algorithm: the worst ratio over the sets. The default should be the
 * algorithm with the best worst ratio. Sets are built on first use into .osusume/datasets.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConfigError } from '../core/errors.js';
import {
  BOOTSTRAP_RESAMPLES,
  drawResamples,
  percentileInterval,
  resampledMacro,
  resampledRatio,
  setSeed,
} from '../core/evaluation.js';
import { buildManualSet, MANUAL_SETS } from './datasets/manuals.js';
import { buildMailingLists } from './datasets/mailing-lists.js';
import { buildMovielens } from './datasets/movielens.js';
import { evaluate, MIN_POSTS } from './evaluate.js';
import { checkoutFile } from './files.js';
import { DATASETS_DIR } from './datasets/dir.js';

/** Algorithms compared by default: the text ones (the embedding is the slow per-tenant model). */
export const SUITE_ALGORITHMS = ['lexical', 'fielded'] as const;

/** The algorithm every ratio is taken against. */
const BASELINE = 'lexical';

/** A labelled set's files: items and related pairs (and interactions, if any). */
export interface SetFiles {
  items: string;
  pairs: string;
  interactions?: string;
}

interface SuiteSet {
  name: string;
  lang: 'en' | 'ja';
  /** What relatedness means in this set. */
  truth: string;
  /** Builds the set if needed; returns its files. */
  files: (dataDir: string) => SetFiles;
}

/** The committed man pages, split by language so that each counts as its own set. */
function manPages(lang: 'en' | 'ja'): SuiteSet {
  return {
    name: `man-pages-${lang}`,
    lang,
    truth: 'SEE ALSO',
    files: (dataDir) => {
      const dir = path.join(dataDir, `man-pages-${lang}`);
      const files = { items: path.join(dir, 'items.jsonl'), pairs: path.join(dir, 'pairs.tsv') };
      if (existsSync(files.items)) return files;
      const read = (f: string) => gunzipSync(readFileSync(f)).toString('utf8').split('\n');
      const ours = (tenant: string) => tenant.startsWith(`${lang}-`);
      mkdirSync(dir, { recursive: true });
      const [header, ...pairs] = read(checkoutFile('demo/related.tsv.gz'));
      writeFileSync(files.pairs, [header, ...pairs.filter(ours)].join('\n') + '\n');
      const items = read(checkoutFile('demo/posts.jsonl.gz')).filter(
        (line) => line.trim() && ours((JSON.parse(line) as { tenantId: string }).tenantId),
      );
      writeFileSync(files.items, items.join('\n') + '\n');
      return files;
    },
  };
}

const SUITE: SuiteSet[] = [
  manPages('en'),
  manPages('ja'),
  {
    name: 'mailing-lists',
    lang: 'en',
    truth: 'same thread (In-Reply-To/References)',
    files: (dataDir) => {
      const { dir } = buildMailingLists(path.join(dataDir, 'mailing-lists'));
      return { items: path.join(dir, 'items.jsonl'), pairs: path.join(dir, 'pairs.tsv') };
    },
  },
  {
    name: 'movielens',
    lang: 'en',
    truth: 'watched next, held out by time (interactions before the cut)',
    files: (dataDir) => {
      const { dir } = buildMovielens(path.join(dataDir, 'movielens'));
      return {
        items: path.join(dir, 'items.jsonl'),
        pairs: path.join(dir, 'pairs.tsv'),
        interactions: path.join(dir, 'interactions.jsonl'),
      };
    },
  },
  ...Object.keys(MANUAL_SETS).map((name): SuiteSet => ({
    name,
    lang: name.endsWith('-ja') ? 'ja' : 'en',
    truth: 'links',
    files: (dataDir) => {
      const { dir } = buildManualSet(name, dataDir);
      return { items: path.join(dir, 'items.jsonl'), pairs: path.join(dir, 'pairs.tsv') };
    },
  })),
];

export interface SuiteResult {
  k: number;
  /** Only tenants with this many posts or more are scored (EvaluateOptions). */
  minPosts: number;
  /** `intervals`: per algorithm, the 95 % paired-bootstrap interval of its ratio to the baseline. */
  sets: {
    name: string;
    lang: string;
    tenants: number;
    ndcg: Record<string, number>;
    intervals: Record<string, [number, number]>;
  }[];
  /** Per algorithm: ratio to the baseline on each set, and the worst of them. */
  ratios: Record<string, { perSet: Record<string, number>; worst: number; worstSet: string }>;
}

export function suiteRatios(
  sets: SuiteResult['sets'],
  algorithms: string[],
): SuiteResult['ratios'] {
  const ratios: SuiteResult['ratios'] = {};
  for (const algorithm of algorithms) {
    const perSet: Record<string, number> = {};
    let worst = Infinity;
    let worstSet = '';
    for (const set of sets) {
      const base = set.ndcg[BASELINE]!;
      const ratio = base > 0 ? set.ndcg[algorithm]! / base : 0;
      perSet[set.name] = ratio;
      if (ratio < worst) [worst, worstSet] = [ratio, set.name];
    }
    ratios[algorithm] = { perSet, worst, worstSet };
  }
  return ratios;
}

/**
 * The noise of a set's ratios: a paired bootstrap that resamples the queries within each tenant
 * (with replacement, keeping the set's macro mean over tenants), the same resamples for the
 * algorithm and the baseline, from a seed fixed per set. `baseline[tenant]` holds the baseline's
 * nDCG per query; the returned function gives another algorithm's ratio in every resample.
 */
export function ratioBootstrap(
  name: string,
  baseline: number[][],
  resamples = BOOTSTRAP_RESAMPLES,
): (scores: number[][]) => Float64Array {
  const draws = drawResamples(
    baseline.map((s) => s.length),
    resamples,
    setSeed(name),
  );
  const base = resampledMacro(baseline, draws);
  return (scores) => resampledRatio(resampledMacro(scores, draws), base);
}

/** What a table says of the tenants it leaves out, if any (--min-posts). */
export function tenantsScored(minPosts: number): string {
  return minPosts > MIN_POSTS ? `; only tenants of ${minPosts} posts or more` : '';
}

/** "1.05x [0.98, 1.12]": a ratio and its 95 % interval. */
export function formatRatio(ratio: number, interval: [number, number], digits: number): string {
  const x = (v: number) => v.toFixed(digits);
  return `${x(ratio)}x [${x(interval[0])}, ${x(interval[1])}]`;
}

/** The named sets of the suite (all by default), in the suite's order. */
function suiteSets(names?: string[]): SuiteSet[] {
  for (const name of names ?? [])
    if (!SUITE.some((s) => s.name === name))
      throw new ConfigError(
        `Unknown dataset "${name}": choose from ${SUITE.map((s) => s.name).join(', ')}.`,
      );
  return SUITE.filter((s) => !names || names.includes(s.name));
}

/** A labelled set by name, with its files. */
export interface NamedSet {
  name: string;
  files: SetFiles;
}

/** The named sets of the suite with their files, each built on first use into dataDir. */
export function suiteFiles(names: string[] | undefined, dataDir: string): NamedSet[] {
  return suiteSets(names).map((set) => ({ name: set.name, files: set.files(dataDir) }));
}

export async function evaluateSuite(options: {
  sets?: string[];
  algorithms: string[];
  k: number;
  dataDir?: string;
  minPosts?: number;
}): Promise<SuiteResult> {
  const minPosts = options.minPosts ?? MIN_POSTS;
  const dataDir = path.resolve(options.dataDir ?? DATASETS_DIR);
  const algorithms = [BASELINE, ...options.algorithms.filter((a) => a !== BASELINE)];
  const sets: SuiteResult['sets'] = [];
  for (const set of suiteSets(options.sets)) {
    const files = set.files(dataDir);
    const result = await evaluate(files.items, files.pairs, algorithms, options.k, {
      interactions: files.interactions,
      minPosts,
    });
    const perQuery = (a: string) => Object.values(result.perTenant).map((m) => m[a]!.ndcgPerQuery);
    const ratios = ratioBootstrap(set.name, perQuery(BASELINE));
    sets.push({
      name: set.name,
      lang: set.lang,
      tenants: result.macro[BASELINE]!.tenants,
      ndcg: Object.fromEntries(algorithms.map((a) => [a, result.macro[a]!.ndcg])),
      intervals: Object.fromEntries(
        algorithms.map((a) => [a, percentileInterval(ratios(perQuery(a)))]),
      ),
    });
  }
  return { k: options.k, minPosts, sets, ratios: suiteRatios(sets, algorithms) };
}

export function formatSuite(result: SuiteResult): string {
  const names = result.sets.map((s) => s.name);
  const lines = [
    `macro nDCG@${result.k} per set (ratio to the ${BASELINE} baseline of the same run [its 95 % interval: paired bootstrap, queries resampled within tenants ${BOOTSTRAP_RESAMPLES} times])${tenantsScored(result.minPosts)}`,
    ['algorithm', ...names, 'worst ratio', 'worst set'].join('\t'),
    ['(tenants)', ...result.sets.map((s) => `${s.tenants} (${s.lang})`), '', ''].join('\t'),
  ];
  const ranked = Object.entries(result.ratios).sort((a, b) => b[1].worst - a[1].worst);
  for (const [algorithm, r] of ranked) {
    lines.push(
      [
        algorithm,
        ...result.sets.map(
          (s) =>
            `${s.ndcg[algorithm]!.toFixed(3)} (${formatRatio(r.perSet[s.name]!, s.intervals[algorithm]!, 2)})`,
        ),
        formatRatio(
          r.worst,
          result.sets.find((s) => s.name === r.worstSet)?.intervals[algorithm] ?? [
            r.worst,
            r.worst,
          ],
          2,
        ),
        r.worstSet,
      ].join('\t'),
    );
  }
  lines.push(`best worst ratio: ${ranked[0]![0]} (${ranked[0]![1].worst.toFixed(2)}x)`);
  return lines.join('\n');
}
