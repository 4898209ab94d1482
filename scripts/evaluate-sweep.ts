/**
 * Choosing the default lists' weights across every evaluation set, and checking the choice:
 *   osusume evaluate --all-datasets --sweep "idfPower=1,2 containment=0.05,0.1" [--sets a,b]
 * Every combination of the listed `fielded` weights (the others at their configured values) is
 * scored on every set against the set's plain TF-IDF baseline; the best combination is the one
 * with the best worst ratio, the only criterion the default may be chosen by. Its noise: each
 * ratio has a 95 % paired-bootstrap interval (ratioBootstrap), and each combination the interval
 * of its worst ratio minus the configured weights' (the incumbent) on the same resamples; the
 * printed verdict changes the weights only when that interval excludes 0 (`decide`). Per set, each
 * combination's ratio minus the incumbent's with its paired interval (informs; decides nothing).
 * Leave-one-set-out: for each set, the combination chosen on the other sets, and its ratio on the
 * held-out one.
 * Fast because it stays in memory: the sets' posts go through the batch's own validation,
 * snapshot and list functions (fieldedLists, lexicalLists), without warehouse, store or workflow;
 * the figures to publish come from `evaluate --all-datasets` (the real batch), with the chosen
 * weights in the configuration.
 */
import type { EmbeddingModel } from '../activities/embedder.js';
import {
  lexicalLists,
  fieldedLists,
  type FieldedWeights,
  type LatentVectors,
} from '../activities/lexical.js';
import { shownCopies } from '../activities/neighbours.js';
import { fieldedSchema, loadConfig } from '../core/config.js';
import { ConfigError, plural } from '../core/errors.js';
import { evaluateLists, percentileInterval, relatedSets } from '../core/evaluation.js';
import { interactionRowSchema, type Interaction, type SnapshotPost } from '../core/posts.js';
import type { RelatedList } from '../core/store/types.js';
import { lineProblem } from '../core/warehouse/jsonl.js';
import {
  formatRatio,
  ratioBootstrap,
  tenantsScored,
  type NamedSet,
  type SetFiles,
} from './evaluate-suite.js';
import {
  catalogues,
  MIN_POSTS,
  nothingToScore,
  readLabelledSet,
  readLines,
  reportLeftOut,
  snapshotItems,
  storedListLength,
  scoredTenants,
} from './evaluate.js';

/** The numeric settings of `fielded`: the ones a sweep varies. */
type WeightName = {
  [K in keyof FieldedWeights]: FieldedWeights[K] extends number ? K : never;
}[keyof FieldedWeights];

export type SweepGrid = Partial<Record<WeightName, number[]>>;

/** `name=v1,v2 name=v3`: the fielded weights to vary and their values. */
export function parseSweepGrid(spec: string, defaults: FieldedWeights): SweepGrid {
  const grid: SweepGrid = {};
  const names = Object.keys(defaults).filter(
    (n) => typeof defaults[n as keyof FieldedWeights] === 'number',
  );
  for (const part of spec.trim().split(/\s+/).filter(Boolean)) {
    const [name, values, ...extra] = part.split('=');
    if (!name || !names.includes(name))
      throw new ConfigError(
        `--sweep: "${name}" is not a fielded weight; choose from ${names.join(', ')}.`,
      );
    if (name in grid)
      throw new ConfigError(`--sweep: ${name} is named twice; list all its values once.`);
    // Number('') is 0: "1,,2" would sweep a 0 nobody asked for.
    const numbers = (values ?? '').split(',').map((v) => (v.trim() ? Number(v) : NaN));
    if (extra.length > 0 || numbers.some((n) => !Number.isFinite(n)))
      throw new ConfigError(`--sweep: give ${name} a comma-separated list of numbers (${part}).`);
    if (new Set(numbers).size < numbers.length)
      throw new ConfigError(`--sweep: ${part} lists a value twice; list each once.`);
    for (const n of numbers) {
      const checked = fieldedSchema.safeParse({ [name]: n });
      if (!checked.success)
        throw new ConfigError(
          `--sweep: ${name}=${n} is not a value fielded.${name} takes (${checked.error.issues[0]?.message}); choose values the configuration accepts.`,
        );
    }
    grid[name as WeightName] = numbers;
  }
  if (Object.keys(grid).length === 0)
    throw new ConfigError('--sweep: name at least one weight, e.g. "idfPower=1,2".');
  return grid;
}

/** Every combination of the grid's values over the defaults. */
export function combinations(grid: SweepGrid, defaults: FieldedWeights): FieldedWeights[] {
  let all: FieldedWeights[] = [defaults];
  for (const [name, values] of Object.entries(grid))
    all = all.flatMap((w) => values.map((v) => ({ ...w, [name]: v })));
  return all;
}

interface Tenant {
  posts: SnapshotPost[];
  interactions: Interaction[];
  related: ReturnType<typeof relatedSets>;
  catalogue: Set<string>;
}

/**
 * An interactions line's row, or what is wrong with it: in the words of `osusume load` for a line
 * the warehouse refuses, then as the batch checks the rows it reads (an invalid id, say).
 */
function interactionRow(line: string): Interaction | string {
  const problem = lineProblem('interactions', line);
  if (problem) return problem;
  const parsed = interactionRowSchema.safeParse(JSON.parse(line));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join('.')}: ${issue?.message}`;
}

/**
 * An interactions file's rows, as the batch reads them: a line it would not use is left out, and
 * named on stderr as evaluate names the item lines it leaves out.
 */
function readInteractions(file: string): Interaction[] {
  const interactions: Interaction[] = [];
  const skipped: string[] = [];
  readLines(file).forEach((line, i) => {
    if (!line.trim()) return;
    const row = interactionRow(line);
    if (typeof row === 'string') skipped.push(`line ${i + 1}: ${row}`);
    else interactions.push(row);
  });
  if (skipped.length > 0)
    reportLeftOut(file, plural(skipped.length, 'line'), skipped, 'interactions');
  return interactions;
}

/** A set's tenants with queries and `minPosts` posts or more, their posts as the batch snapshots them. */
function loadTenants(files: SetFiles, minPosts: number): Tenant[] {
  const { pipeline } = loadConfig();
  const { items, pairs } = readLabelledSet(files.items, files.pairs);
  const interactions = files.interactions ? readInteractions(files.interactions) : [];
  const catalogueOf = catalogues(items);
  const snapshots = snapshotItems(items, pipeline, files.items);
  const scored = scoredTenants(snapshots, minPosts, files.items);
  const tenants = [...snapshots]
    .filter(([tenant]) => scored(tenant))
    .map(([tenant, posts]) => {
      const catalogue = catalogueOf.get(tenant)!;
      return {
        posts,
        interactions: interactions.filter((i) => i.tenantId === tenant),
        related: relatedSets(pairs.get(tenant) ?? [], catalogue, shownCopies(posts)),
        catalogue,
      };
    })
    .filter((t) => t.related.size > 0);
  if (tenants.length === 0) throw nothingToScore(files, minPosts);
  return tenants;
}

/** nDCG@k per query of each tenant (every tenant here has queries). */
function ndcgPerQuery(
  tenants: Tenant[],
  lists: (t: Tenant) => RelatedList[],
  k: number,
): number[][] {
  return tenants.map((t) => {
    const byPost = new Map(lists(t).map((l) => [l.postId, l.items.map((i) => i.postId)]));
    return evaluateLists(byPost, t.related, t.catalogue, k).ndcgPerQuery;
  });
}

/** The macro mean over tenants, as `macroAverage`. */
function macroMean(perQuery: number[][]): number {
  const means = perQuery.map((q) => q.reduce((a, b) => a + b, 0) / q.length);
  return means.reduce((a, b) => a + b, 0) / means.length;
}

export interface SweepRow {
  weights: FieldedWeights;
  /** Ratio to the baseline per set (in `sets` order), and its 95 % bootstrap interval. */
  ratios: number[];
  intervals: [number, number][];
  worst: number;
  /** This row's worst ratio minus the incumbent's, and its 95 % paired-bootstrap interval. */
  difference: number;
  differenceInterval: [number, number];
  /**
   * Per set: this row's ratio minus the incumbent's, and its 95 % interval over the same
   * resamples (paired, so narrower than the two ratios' own intervals): where a combination gains
   * or loses beyond noise, whatever the worst set does.
   */
  setDifferences: { difference: number; interval: [number, number] }[];
}

export interface SweepResult {
  sets: string[];
  /** Per set, the tenants scored (those with queries and `minPosts` posts or more). */
  tenants: number[];
  /** Only tenants with this many posts or more are scored (EvaluateOptions). */
  minPosts: number;
  /** Every combination (and the configured weights, the incumbent, if the grid lacks them). */
  rows: SweepRow[];
  incumbent: FieldedWeights;
  /**
   * The decision rule (EVALUATION.md): the weights change only to a combination whose worst
   * ratio beats the incumbent's beyond noise (the interval of the difference excludes 0); of
   * those, the best worst ratio. Otherwise the incumbent stays.
   */
  verdict: { change: boolean; weights: FieldedWeights };
  /**
   * Per set: the combination with the best worst ratio on the other sets, and its ratio here.
   * Empty for one set, which has no others.
   */
  leaveOneOut: { held: string; weights: FieldedWeights; heldRatio: number; othersWorst: number }[];
}

/** Texts embedded at once by `encoderVectors`. */
const ENCODER_BATCH = 64;

/**
 * The `latent` vectors of a pretrained encoder for every text of these tenants, embedded once
 * and looked up by text (what the batch's `latent` compares with latentVectors "embedding").
 */
async function encoderVectors(model: EmbeddingModel, tenants: Tenant[]): Promise<LatentVectors> {
  const texts = [...new Set(tenants.flatMap((t) => t.posts.map((p) => p.text)))];
  const rows = new Map<string, Float32Array>();
  for (let i = 0; i < texts.length; i += ENCODER_BATCH) {
    const batch = texts.slice(i, i + ENCODER_BATCH);
    const vectors = await model.embedBatch(batch);
    batch.forEach((text, j) =>
      rows.set(text, vectors.subarray(j * model.dim, (j + 1) * model.dim)),
    );
  }
  return (wanted) => {
    const vectors = new Float32Array(wanted.length * model.dim);
    wanted.forEach((text, j) => vectors.set(rows.get(text)!, j * model.dim));
    return { vectors, dim: model.dim };
  };
}

/** A set as the sweep scores it: its tenants, its baseline, and its bootstrap. */
interface SweepSet {
  name: string;
  tenants: Tenant[];
  latent: LatentVectors | undefined;
  base: number;
  bootstrap: ReturnType<typeof ratioBootstrap>;
}

export async function sweepFielded(options: {
  grid: SweepGrid;
  /** The evaluation sets (suiteFiles), or the user's own labelled set. */
  sets: NamedSet[];
  k: number;
  /** Bootstrap resamples per set (BOOTSTRAP_RESAMPLES by default). */
  resamples?: number;
  /** Rescore `latent` with this encoder's vectors instead of each tenant's LSA model. */
  latentModel?: EmbeddingModel;
  /** Score only tenants with this many posts or more (EvaluateOptions). */
  minPosts?: number;
  onProgress?: (line: string) => void;
}): Promise<SweepResult> {
  const minPosts = options.minPosts ?? MIN_POSTS;
  const defaults = loadConfig().fielded;
  const listLength = storedListLength(options.k);
  const data: SweepSet[] = [];
  for (const set of options.sets) {
    const tenants = loadTenants(set.files, minPosts);
    // Reading every set takes most of a minute before the first combination's line.
    options.onProgress?.(`${set.name}: ${plural(tenants.length, 'tenant')} read`);
    const base = ndcgPerQuery(tenants, (t) => lexicalLists(t.posts, listLength), options.k);
    let latent: LatentVectors | undefined;
    if (options.latentModel) {
      latent = await encoderVectors(options.latentModel, tenants);
      options.onProgress?.(`${set.name}: texts embedded for latent`);
    }
    data.push({
      name: set.name,
      tenants,
      latent,
      base: macroMean(base),
      bootstrap: ratioBootstrap(set.name, base, options.resamples),
    });
  }
  const grid = combinations(options.grid, defaults);
  const same = (a: FieldedWeights, b: FieldedWeights) =>
    Object.keys(a).every((n) => a[n as keyof FieldedWeights] === b[n as keyof FieldedWeights]);
  if (!grid.some((w) => same(w, defaults))) grid.push(defaults);
  const scored = grid.map((weights) => {
    const perSet = data.map((set) => {
      const perQuery = ndcgPerQuery(
        set.tenants,
        (t) => fieldedLists(t.posts, t.interactions, listLength, weights, set.latent),
        options.k,
      );
      return { ratio: macroMean(perQuery) / set.base, samples: set.bootstrap(perQuery) };
    });
    const ratios = perSet.map((p) => p.ratio);
    const samples = perSet.map((p) => p.samples);
    options.onProgress?.(
      `${describe(weights, options.grid)}: worst ${Math.min(...ratios).toFixed(3)}`,
    );
    return {
      weights,
      ratios,
      intervals: samples.map((s) => percentileInterval(s)),
      worst: Math.min(...ratios),
      samples,
      // The worst ratio in each resample (the worst set may differ from one resample to the next).
      worstSamples: samples[0]!.map((_, r) => Math.min(...samples.map((s) => s[r]!))),
    };
  });
  const incumbent = scored.find((r) => same(r.weights, defaults))!;
  const pairedDifference = (values: ArrayLike<number>, incumbentValues: ArrayLike<number>) =>
    percentileInterval(Array.from(values, (v, r) => v - incumbentValues[r]!));
  const rows: SweepRow[] = scored.map(({ worstSamples, samples, ...row }) => ({
    ...row,
    difference: row.worst - incumbent.worst,
    differenceInterval: pairedDifference(worstSamples, incumbent.worstSamples),
    setDifferences: samples.map((setSamples, i) => ({
      difference: row.ratios[i]! - incumbent.ratios[i]!,
      interval: pairedDifference(setSamples, incumbent.samples[i]!),
    })),
  }));
  const verdict = decide(rows, incumbent.weights);
  const leaveOneOut = (data.length > 1 ? data : []).map((set, held) => {
    const othersWorst = (r: (typeof rows)[number]) =>
      Math.min(...r.ratios.filter((_, i) => i !== held));
    const best = rows.reduce((a, b) => (othersWorst(b) > othersWorst(a) ? b : a));
    return {
      held: set.name,
      weights: best.weights,
      heldRatio: best.ratios[held]!,
      othersWorst: othersWorst(best),
    };
  });
  return {
    sets: data.map((d) => d.name),
    tenants: data.map((d) => d.tenants.length),
    minPosts,
    rows,
    incumbent: incumbent.weights,
    verdict,
    leaveOneOut,
  };
}

/**
 * The decision rule of EVALUATION.md: of the combinations whose worst ratio beats the
 * incumbent's beyond noise (the 95 % interval of the paired difference lies above 0), the one
 * with the best worst ratio; if there is none, the incumbent stays.
 */
export function decide(rows: SweepRow[], incumbent: FieldedWeights): SweepResult['verdict'] {
  const better = rows.filter((r) => r.differenceInterval[0] > 0);
  if (better.length === 0) return { change: false, weights: incumbent };
  return { change: true, weights: better.reduce((a, b) => (b.worst > a.worst ? b : a)).weights };
}

/** The varied weights of a combination, as the grid names them. */
function describe(weights: FieldedWeights, grid: SweepGrid): string {
  return Object.keys(grid)
    .map((name) => `${name}=${weights[name as keyof FieldedWeights]}`)
    .join(' ');
}

/**
 * A difference with its sign, to three decimals; one that is not 0 but would print as ±0.000 gets
 * two significant digits, so that a verdict "beyond noise" never rests on an interval of zeros.
 */
export function signed(x: number): string {
  const tiny = x !== 0 && Math.abs(x) < 0.0005;
  const digits = tiny ? Math.min(10, 1 - Math.floor(Math.log10(Math.abs(x)))) : 3;
  return `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
}

export function formatSweep(result: SweepResult, grid: SweepGrid): string {
  const ratio = (x: number) => `${x.toFixed(3)}x`;
  const difference = (r: SweepRow) =>
    `${signed(r.difference)} [${signed(r.differenceInterval[0])}, ${signed(r.differenceInterval[1])}]`;
  const ranked = [...result.rows].sort((a, b) => b.worst - a.worst);
  const name = (w: FieldedWeights) =>
    describe(w, grid) + (w === result.incumbent ? ' (configured)' : '');
  const best = ranked[0]!;
  const incumbent = result.rows.find((r) => r.weights === result.incumbent)!;
  const verdict = result.verdict.change
    ? `verdict: change to ${describe(result.verdict.weights, grid)}: its worst ratio beats the configured weights' beyond noise (${difference(result.rows.find((r) => r.weights === result.verdict.weights)!)})`
    : best === incumbent
      ? 'verdict: keep the configured weights (they have the best worst ratio)'
      : `verdict: keep the configured weights: no combination beats their worst ratio (${ratio(incumbent.worst)}) beyond noise; the best, ${describe(best.weights, grid)}, by ${difference(best)}`;
  const lines = [
    `fielded weights by worst ratio to the lexical baseline (in memory, the batch functions)${tenantsScored(result.minPosts)};`,
    `[95 % intervals: paired bootstrap, queries resampled within tenants]; Δ worst: worst ratio minus the configured weights' (paired)`,
    ['weights', ...result.sets, 'worst', 'Δ worst'].join('\t'),
    ['(tenants)', ...result.tenants, '', ''].join('\t'),
    ...ranked.map((r) =>
      [
        name(r.weights),
        ...r.ratios.map((x, i) => formatRatio(x, r.intervals[i]!, 3)),
        ratio(r.worst),
        difference(r),
      ].join('\t'),
    ),
    `best worst ratio: ${describe(best.weights, grid)} (${ratio(best.worst)})`,
    verdict,
  ];
  const challengers = ranked.filter((r) => r !== incumbent);
  if (challengers.length > 0)
    lines.push(
      "Δ per set: ratio minus the configured weights' [paired 95 % interval]; + or - where the interval lies wholly above or below 0",
      ['weights', ...result.sets].join('\t'),
      ...challengers.map((r) =>
        [
          describe(r.weights, grid),
          ...r.setDifferences.map(({ difference: d, interval: [low, high] }) => {
            const beyond = low > 0 ? ' +' : high < 0 ? ' -' : '';
            return `${signed(d)} [${signed(low)}, ${signed(high)}]${beyond}`;
          }),
        ].join('\t'),
      ),
    );
  if (result.leaveOneOut.length > 0)
    lines.push(
      'leave one set out: weights chosen on the other sets, ratio on the held-out one',
      ['held out', 'weights', 'held-out ratio', 'worst of the others'].join('\t'),
      ...result.leaveOneOut.map((l) =>
        [l.held, describe(l.weights, grid), ratio(l.heldRatio), ratio(l.othersWorst)].join('\t'),
      ),
    );
  return lines.join('\n');
}
