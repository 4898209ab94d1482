/**
 * Offline evaluation through the real pipeline:
 *   osusume evaluate --items ITEMS.jsonl[.gz] --pairs PAIRS.tsv[.gz] [--algorithms embedding,popular] [--k 10] [--json]
 *   osusume evaluate --all-datasets [--sets man-pages-en,gimp-ja] [--algorithms ...]   (evaluate-suite.ts)
 * Items: JSON lines with tenant, id, title, body (tenantId/postId are accepted too). Pairs: TSV
 * with a header naming tenant, a, b (undirected). The items are loaded into a temporary local
 * warehouse and the batch runs on them; its lists are scored per tenant and macro-averaged.
 * The embedding model is the configured one, else each tenant's own LSA model, as in the batch.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openContext } from '../activities/context.js';
import { EmbeddingModel } from '../activities/embedder.js';
import { shownCopies } from '../activities/neighbours.js';
import { configuredModelDir } from '../activities/tenant-model.js';
import { loadConfig, parseConfig, type Config } from '../core/config.js';
import { ConfigError, plural } from '../core/errors.js';
import { ID_RULE, tenantIdSchema } from '../core/ids.js';
import { logAsDebug } from '../core/log.js';
import {
  evaluateLists,
  listOverlap,
  macroAverage,
  relatedSets,
  type Lists,
  type TenantMetrics,
} from '../core/evaluation.js';
import { ALGORITHMS, DEFAULT_ALGORITHM } from '../core/experiments.js';
import { toSnapshotPost, validatePostRow, type SnapshotPost } from '../core/posts.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';
import { runBatch, type TenantFailure } from './batch.js';
import { DATASETS_DIR } from './datasets/dir.js';
import { onInterrupt } from './interrupt.js';
import {
  evaluateSuite,
  formatSuite,
  SUITE_ALGORITHMS,
  suiteFiles,
  tenantsScored,
  type NamedSet,
} from './evaluate-suite.js';

interface Item {
  tenant: string;
  id: string;
  title: string;
  body: string;
}

/** The creation time every evaluated item gets: copies of one text are then shown by smallest id. */
const ITEM_TIME = '2024-01-01T00:00:00.000Z';

/** An item as a row of the warehouse's posts table. */
function postRow(item: Item) {
  return {
    tenantId: item.tenant,
    postId: item.id,
    title: item.title,
    body: item.body,
    createdAt: ITEM_TIME,
    updatedAt: ITEM_TIME,
  };
}

/**
 * Each tenant's items as the batch snapshots them (validated, text cut to the configured length;
 * items it would skip left out), in the snapshot's order.
 */
export function snapshotPosts(
  items: Item[],
  pipeline: Config['pipeline'],
  onSkipped?: (problem: string) => void,
) {
  const byTenant = new Map<string, Map<string, SnapshotPost>>();
  for (const item of items) {
    const posts = byTenant.get(item.tenant) ?? new Map<string, SnapshotPost>();
    byTenant.set(item.tenant, posts);
    const verdict = validatePostRow(postRow(item), pipeline);
    if (verdict.ok) posts.set(item.id, toSnapshotPost(verdict.post, pipeline.maxTextChars));
    else onSkipped?.(`${item.tenant} ${item.id}: ${verdict.reason}, ${verdict.detail}`);
  }
  return new Map(
    [...byTenant].map(([tenant, posts]) => [
      tenant,
      [...posts.values()].sort((a, b) => (a.postId < b.postId ? -1 : 1)),
    ]),
  );
}

/**
 * snapshotPosts, with a line on stderr for the items the batch skips: they keep their pairs, so
 * each counts as a miss, which a user should know of before reading the figures.
 */
export function snapshotItems(items: Item[], pipeline: Config['pipeline'], itemsFile: string) {
  const skipped: string[] = [];
  const snapshots = snapshotPosts(items, pipeline, (problem) => skipped.push(problem));
  if (skipped.length > 0)
    console.error(
      `${itemsFile}: the batch skips ${plural(skipped.length, 'item')} (${firstFew(skipped)}), each a miss in the figures; fix them so that the batch reads them.`,
    );
  return snapshots;
}

/**
 * Each tenant's item ids, in the items' order: every item, the ones the batch skips too, since
 * they still have their pairs.
 */
export function catalogues(items: Item[]): Map<string, Set<string>> {
  const byTenant = new Map<string, Set<string>>();
  for (const item of items)
    byTenant.set(item.tenant, (byTenant.get(item.tenant) ?? new Set()).add(item.id));
  return byTenant;
}

/** A labelled set's file, which must exist: else an error that names it. */
export function existingFile(file: string): string {
  if (!existsSync(file))
    throw new ConfigError(
      `${file} does not exist: pass the path of an existing file (README, "Offline evaluation", says what it holds).`,
    );
  return file;
}

/**
 * A labelled set's file as lines (gzip accepted). A file saved on Windows or by a spreadsheet reads
 * as any other: with its CRLF line ends, a pair's last id would end in "\r" and name no item, and
 * with its byte-order mark, the first item would not parse.
 */
export function readLines(file: string): string[] {
  const raw = readFileSync(existingFile(file));
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return text.replace(/^\uFEFF/, '').split(/\r?\n/);
}

/** An item line's item, or what is wrong with it. */
function parseItem(line: string): Item | string {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return 'not a JSON object';
  const r = row as Record<string, unknown>;
  const item = {
    tenant: r.tenant ?? r.tenantId,
    id: r.id ?? r.postId,
    title: r.title ?? '',
    body: r.body ?? '',
  };
  for (const [field, value] of Object.entries(item)) {
    if (value === undefined) return `no ${field}`;
    if (typeof value !== 'string') return `its ${field} is not a string`;
  }
  if (!item.tenant || !item.id) return `an empty ${item.tenant ? 'id' : 'tenant'}`;
  // The batch skips such a tenant whole: its figures would be zeros.
  if (!tenantIdSchema.safeParse(item.tenant).success)
    return `tenant ${JSON.stringify(item.tenant)} is not a valid id (ids are ${ID_RULE})`;
  return item as Item;
}

/**
 * A labelled set's items, and what is wrong with each line left out ("line 3: not JSON"). Of an
 * id repeated within a tenant, the first line is kept: the batch would keep either.
 */
export function readItems(file: string): { items: Item[]; skipped: string[] } {
  const items: Item[] = [];
  const skipped: string[] = [];
  const lineOf = new Map<string, number>();
  readLines(file).forEach((line, i) => {
    if (!line.trim()) return;
    const item = parseItem(line);
    const key = typeof item === 'string' ? '' : JSON.stringify([item.tenant, item.id]);
    const first = lineOf.get(key);
    if (typeof item === 'string') skipped.push(`line ${i + 1}: ${item}`);
    else if (first !== undefined)
      skipped.push(`line ${i + 1}: repeats the tenant and id of line ${first}`);
    else {
      lineOf.set(key, i + 1);
      items.push(item);
    }
  });
  return { items, skipped };
}

/** "a; b; c; and 2 more": what is wrong with the first few. */
function firstFew(problems: string[]): string {
  const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
  return problems.slice(0, 3).join('; ') + more;
}

/**
 * The line on stderr for what a labelled set's file left out ("3 lines", "2 of its 9 pairs"),
 * naming the first few and why, and that fixing them scores what they hold.
 */
export function reportLeftOut(
  file: string,
  leftOut: string,
  problems: string[],
  what = 'items',
): void {
  console.error(
    `${file}: left out ${leftOut} (${firstFew(problems)}); fix them to score those ${what}.`,
  );
}

/**
 * What is wrong with each pair no figure can use: an id that is no item of the pair's tenant, or
 * an item paired with itself ("acme p1 p9: p9 is no item of acme").
 */
export function unusablePairs(
  pairs: Map<string, [string, string][]>,
  catalogue: Map<string, Set<string>>,
): string[] {
  const problems: string[] = [];
  for (const [tenant, list] of pairs)
    for (const [a = '', b = ''] of list) {
      const known = catalogue.get(tenant);
      const unknown = [a, b].find((id) => !known?.has(id));
      const what = !known
        ? `no item has tenant ${JSON.stringify(tenant)}`
        : unknown !== undefined
          ? `${JSON.stringify(unknown)} is no item of ${tenant}`
          : a === b
            ? 'an item paired with itself'
            : undefined;
      if (what) problems.push(`${tenant} ${a} ${b}: ${what}`);
    }
  return problems;
}

/**
 * A labelled set's items and pairs, with a line on stderr for the items and pairs left out. No
 * item, or no pair of two items, is an error: every figure would be a zero.
 */
export function readLabelledSet(
  itemsFile: string,
  pairsFile: string,
): { items: Item[]; pairs: Map<string, [string, string][]> } {
  const { items, skipped } = readItems(itemsFile);
  if (skipped.length > 0) reportLeftOut(itemsFile, plural(skipped.length, 'line'), skipped);
  if (items.length === 0)
    throw new ConfigError(
      `${itemsFile} holds no item: write one JSON object a line with tenant, id, title and body (README, "Offline evaluation").`,
    );
  const pairs = readPairs(pairsFile);
  const unusable = unusablePairs(pairs, catalogues(items));
  const count = [...pairs.values()].reduce((n, list) => n + list.length, 0);
  if (unusable.length === count)
    throw new ConfigError(
      `No pair of ${pairsFile} names two items of one tenant of ${itemsFile}${count > 0 ? ` (${firstFew(unusable)})` : ''}: its tenant, a and b columns must hold the tenant and ids of the items.`,
    );
  if (unusable.length > 0)
    reportLeftOut(pairsFile, `${unusable.length} of its ${plural(count, 'pair')}`, unusable);
  return { items, pairs };
}

export function readPairs(file: string): Map<string, [string, string][]> {
  const [header = '', ...rows] = readLines(file).filter((l) => l.trim());
  const columns = header.split('\t').map((c) => c.trim());
  const at = (name: string) => {
    const i = columns.indexOf(name);
    if (i < 0)
      throw new ConfigError(
        `${file}: the header must name tenant, a and b (found: ${columns.join(', ')}).`,
      );
    return i;
  };
  const [t, a, b] = [at('tenant'), at('a'), at('b')];
  const pairs = new Map<string, [string, string][]>();
  for (const row of rows) {
    const cells = row.split('\t');
    const tenant = cells[t]!;
    if (!pairs.has(tenant)) pairs.set(tenant, []);
    pairs.get(tenant)!.push([cells[a]!, cells[b]!]);
  }
  return pairs;
}

/** Lists are computed this long (the batch's default) and scored on their first k items. */
export function storedListLength(k: number): number {
  return Math.max(k, 20);
}

export interface EvaluationResult {
  k: number;
  /** Only tenants with this many posts or more are scored (EvaluateOptions). */
  minPosts: number;
  /** Tenants with fewer posts than `minPosts` (EvaluateOptions) left out of every figure. */
  belowMinPosts: number;
  perTenant: Record<string, Record<string, TenantMetrics>>;
  macro: Record<string, ReturnType<typeof macroAverage>>;
  overlap: Record<string, number>;
}

/** The smallest tenant scored by default: every tenant with a pair of posts. */
export const MIN_POSTS = 2;

export interface EvaluateOptions {
  /** Interactions (JSON lines: tenantId, userId, postId, type, ts) loaded with the items. */
  interactions?: string;
  /**
   * Score only tenants with this many posts or more (MIN_POSTS by default). The product serves a
   * tenant below pipeline.minPostsForEmbedding popular lists, not the algorithms scored here.
   */
  minPosts?: number;
}

/**
 * Whether a tenant is scored: every one at the default floor (a tenant of one post has no pair
 * anyway), else those of `snapshots` with `minPosts` posts or more; an error if none has.
 */
export function scoredTenants(
  snapshots: Map<string, unknown[]>,
  minPosts: number,
  source: string,
): (tenant: string) => boolean {
  if (minPosts <= MIN_POSTS) return () => true;
  const kept = new Set([...snapshots].filter(([, p]) => p.length >= minPosts).map(([t]) => t));
  if (kept.size === 0)
    throw new ConfigError(
      `No tenant of ${source} has ${minPosts} posts or more: lower --min-posts (default ${MIN_POSTS}).`,
    );
  return (tenant) => kept.has(tenant);
}

/**
 * A set whose scored tenants have no pair to score, although its pairs name its items: every
 * figure would be 0 (the sweep's ratios NaN).
 */
export function nothingToScore(files: { items: string; pairs: string }, minPosts: number) {
  return new ConfigError(
    minPosts > MIN_POSTS
      ? `No tenant of ${files.items} with ${minPosts} posts or more has a pair in ${files.pairs}: lower --min-posts (default ${MIN_POSTS}).`
      : `Every pair of ${files.pairs} joins two copies of one text of ${files.items}, which lists show once: pair items with different texts.`,
  );
}

/**
 * A tenant the batch failed: which, at which step, the batch's error, and what to do. The
 * warehouse an error may name is a temporary one, loaded from the items file.
 */
function failedTenantLine(failure: TenantFailure, itemsFile: string): string {
  const { tenantId, step, error } = failure;
  return `tenant ${tenantId} failed at ${step}, so each of its queries counts as a miss: ${error.replace(/\.?$/, '.')} The batch read tenant ${tenantId} from ${itemsFile}: fix its items there, or leave them out, and run again.`;
}

export async function evaluate(
  itemsFile: string,
  pairsFile: string,
  algorithms: string[],
  k: number,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const { items, pairs } = readLabelledSet(itemsFile, pairsFile);
  const dir = mkdtempSync(path.join(tmpdir(), 'osusume-eval-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const forgetDir = onInterrupt(removeDir);
  try {
    const own = loadConfig();
    // The model section as loaded (resolved where the user's configuration is, its model.dir
    // checked as the batch checks it), not re-parsed in the temporary folder.
    const config: Config = {
      ...parseConfig(
        {
          warehouse: { kind: 'duckdb', path: 'warehouse.duckdb' },
          store: { kind: 'lmdb', path: 'store.lmdb' },
          artifactsDir: 'artifacts',
          experimentsFile: 'experiments.yaml',
          fielded: own.fielded,
          neighbours: { k: storedListLength(k) },
          // The text limits decide what the batch reads of each post (and the sweep reads them).
          pipeline: {
            minPostsForEmbedding: 2,
            maxPostChars: own.pipeline.maxPostChars,
            maxTextChars: own.pipeline.maxTextChars,
          },
        },
        dir,
      ),
      model: own.model,
    };
    const snapshots = snapshotItems(items, config.pipeline, itemsFile);
    const scored = scoredTenants(snapshots, options.minPosts ?? MIN_POSTS, itemsFile);
    // The batch computes the algorithms the experiments file names: name every one evaluated.
    const variants = algorithms.map((a) => `{ name: ${a}, algorithm: ${a} }`).join(', ');
    writeFileSync(
      path.join(dir, 'experiments.yaml'),
      `experiments:\n  - { id: evaluation, surface: evaluation, variants: [${variants}] }\n`,
    );
    // Only the scored tenants go through the batch: the others' lists would go unread.
    const postsFile = path.join(dir, 'posts.jsonl');
    writeFileSync(
      postsFile,
      items
        .filter((i) => scored(i.tenant))
        .map((i) => JSON.stringify(postRow(i)))
        .join('\n') + '\n',
    );
    const warehouse = await DuckDbWarehouse.open(path.join(dir, 'warehouse.duckdb'));
    try {
      await warehouse.importFile('posts', postsFile);
      if (options.interactions) {
        const skipped: string[] = [];
        await warehouse.importFile('interactions', existingFile(options.interactions), {
          onSkipped: (row) => skipped.push(`line ${row.line}: ${row.reason}`),
        });
        if (skipped.length > 0)
          reportLeftOut(
            options.interactions,
            plural(skipped.length, 'line'),
            skipped,
            'interactions',
          );
      }
    } finally {
      await warehouse.close();
    }

    const ctx = await openContext(config);
    try {
      // Its failures are said below, one line each; its JSON log lines show at debug.
      const batch = await logAsDebug(() => runBatch(ctx, { runId: 'eval', progress: 'tenants' }));
      for (const f of batch.failed) console.error(failedTenantLine(f, itemsFile));
      // As `osusume batch` does: the figures count a failed tenant's queries as misses.
      if (batch.failed.length > 0) process.exitCode = 1;
      const result: EvaluationResult = {
        k,
        minPosts: options.minPosts ?? MIN_POSTS,
        belowMinPosts: new Set(items.map((i) => i.tenant).filter((t) => !scored(t))).size,
        perTenant: {},
        macro: {},
        overlap: {},
      };
      const listsByAlgorithm: Record<string, Lists[]> = Object.fromEntries(
        algorithms.map((a) => [a, []]),
      );
      const tenants = [...catalogues(items)]
        .filter(([tenant]) => scored(tenant))
        .sort(([a], [b]) => (a < b ? -1 : 1));
      for (const [tenant, catalogue] of tenants) {
        const related = relatedSets(
          pairs.get(tenant) ?? [],
          catalogue,
          shownCopies(snapshots.get(tenant) ?? []),
        );
        result.perTenant[tenant] = {};
        const popular = (await ctx.store.getPopular(tenant))?.items.map((i) => i.postId) ?? [];
        for (const algorithm of algorithms) {
          const lists: Lists = new Map();
          for (const id of catalogue) {
            const items =
              algorithm === 'popular'
                ? popular.filter((p) => p !== id)
                : (
                    (await ctx.store.getList(tenant, algorithm, id)) ??
                    (await ctx.store.getList(tenant, 'popular', id))
                  )?.items.map((i) => i.postId);
            lists.set(id, items ?? []);
          }
          listsByAlgorithm[algorithm]!.push(lists);
          result.perTenant[tenant]![algorithm] = evaluateLists(lists, related, catalogue, k);
        }
      }
      if (Object.values(result.perTenant).every((m) => !algorithms.some((a) => m[a]!.queries)))
        throw nothingToScore({ items: itemsFile, pairs: pairsFile }, result.minPosts);
      for (const algorithm of algorithms)
        result.macro[algorithm] = macroAverage(
          Object.values(result.perTenant).map((m) => m[algorithm]!),
        );
      for (let i = 0; i < algorithms.length; i++) {
        for (let j = i + 1; j < algorithms.length; j++) {
          const [a, b] = [algorithms[i]!, algorithms[j]!];
          const values = listsByAlgorithm[a]!.map((l, t) =>
            listOverlap(l, listsByAlgorithm[b]![t]!, k),
          );
          result.overlap[`${a}~${b}`] =
            values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
        }
      }
      return result;
    } finally {
      await ctx.close();
    }
  } finally {
    removeDir();
    forgetDir();
  }
}

const f3 = (x: number) => x.toFixed(3);

export function formatTable(result: EvaluationResult): string {
  const lines = [
    `k = ${result.k}${tenantsScored(result.minPosts)}`,
    [
      'tenant',
      'algorithm',
      'queries',
      `recall@${result.k}`,
      `nDCG@${result.k}`,
      'MRR',
      'coverage',
    ].join('\t'),
  ];
  // A tenant without related pairs (or with pairs of copies only) has nothing to score: a row of
  // zeros would only mislead.
  const scored = Object.entries(result.perTenant).filter(([, byAlgorithm]) =>
    Object.values(byAlgorithm).some((m) => m.queries > 0),
  );
  const unscored = Object.keys(result.perTenant).length - scored.length;
  for (const [tenant, byAlgorithm] of scored) {
    for (const [algorithm, m] of Object.entries(byAlgorithm)) {
      lines.push(
        [tenant, algorithm, m.queries, f3(m.recall), f3(m.ndcg), f3(m.mrr), f3(m.coverage)].join(
          '\t',
        ),
      );
    }
  }
  for (const [algorithm, m] of Object.entries(result.macro)) {
    lines.push(
      [
        `MACRO (${plural(m.tenants, 'tenant')})`,
        algorithm,
        '',
        f3(m.recall),
        f3(m.ndcg),
        f3(m.mrr),
        f3(m.coverage),
      ].join('\t'),
    );
  }
  for (const [pair, v] of Object.entries(result.overlap))
    lines.push(`overlap ${pair}: ${f3(v)} (mean Jaccard of top-${result.k})`);
  if (unscored > 0)
    lines.push(
      `Left out: ${plural(unscored, 'tenant')} without a related pair of two different texts in the pairs file (a pair of copies of one text is not scored: lists show one copy).`,
    );
  if (result.belowMinPosts > 0)
    lines.push(
      `Left out: ${plural(result.belowMinPosts, 'tenant')} with fewer posts than --min-posts.`,
    );
  return lines.join('\n');
}

export function summaryJson(result: EvaluationResult): Record<string, unknown> {
  const entry = (m: ReturnType<typeof macroAverage>) => ({
    macroNdcg: +m.ndcg.toFixed(4),
    macroRecall: +m.recall.toFixed(4),
    macroMrr: +m.mrr.toFixed(4),
    coverage: +m.coverage.toFixed(4),
    tenants: m.tenants,
  });
  const out: Record<string, unknown> = Object.fromEntries(
    Object.entries(result.macro).map(([a, m]) => [a, entry(m)]),
  );
  if (result.macro[DEFAULT_ALGORITHM])
    out.default = { algorithm: DEFAULT_ALGORITHM, ...entry(result.macro[DEFAULT_ALGORITHM]) };
  return out;
}

export interface EvaluateCommandOptions {
  /** With `pairs`, one labelled set; else `allDatasets`. */
  items?: string;
  pairs?: string;
  /** Interactions for coengagement (the warehouse's JSONL form). */
  interactions?: string;
  /** Every evaluation set of evaluate-suite.ts (or `sets` of them). */
  allDatasets?: boolean;
  sets?: string[];
  /** Fielded weights to vary (evaluate-sweep.ts) on the sets or the own set, instead of the batch. */
  sweep?: string;
  /** With `sweep`: a pretrained encoder's folder, whose vectors `latent` rescores with (default: model.dir's with latentVectors "embedding"). */
  latentModel?: string;
  /** Default: every algorithm for one set, SUITE_ALGORITHMS for all of them. */
  algorithms?: string[];
  k: number;
  /** Score only tenants with this many posts or more (EvaluateOptions). */
  minPosts?: number;
  json?: boolean;
}

/**
 * The encoder whose vectors the sweep's latent channel compares: --latent-model, else, as in the
 * batch with latentVectors "embedding", model.dir's when it holds one; undefined: the LSA model.
 */
export function latentModelDir(latentModel: string | undefined, config: Config) {
  if (latentModel !== undefined) return latentModel;
  const { fielded, model } = config;
  return fielded.latentVectors === 'embedding' ? configuredModelDir(model) : undefined;
}

/** What --sweep scores: every evaluation set (or --sets of them), or the user's own set. */
function sweepSets(options: EvaluateCommandOptions): NamedSet[] {
  if (options.allDatasets) return suiteFiles(options.sets, path.resolve(DATASETS_DIR));
  if (!options.items || !options.pairs)
    throw new ConfigError(
      '--sweep scores either every evaluation set (--all-datasets) or your own labelled set: pass --items ITEMS.jsonl and --pairs PAIRS.tsv.',
    );
  const { items, pairs, interactions } = options;
  return [{ name: items, files: { items, pairs, interactions } }];
}

export async function evaluateCommand(options: EvaluateCommandOptions): Promise<void> {
  const { k } = options;
  if (options.latentModel !== undefined && options.sweep === undefined)
    throw new ConfigError(
      "--latent-model goes with --sweep (it rescores the sweep's latent channel): add --sweep, or leave out --latent-model.",
    );
  if (options.sets !== undefined && !options.allDatasets)
    throw new ConfigError(
      '--sets goes with --all-datasets (it picks which evaluation sets to score): add --all-datasets, or leave out --sets.',
    );
  if (options.sweep !== undefined && options.algorithms !== undefined)
    throw new ConfigError(
      '--sweep scores fielded weights against lexical, not --algorithms: drop one or the other.',
    );
  if (options.allDatasets && (options.items || options.pairs || options.interactions))
    throw new ConfigError(
      '--all-datasets scores the evaluation sets, not --items/--pairs/--interactions: drop one or the other.',
    );
  // A mistyped path stops the command before it reads or runs anything.
  for (const file of [options.items, options.pairs, options.interactions])
    if (file !== undefined) existingFile(file);
  if (options.sweep !== undefined) {
    const { formatSweep, parseSweepGrid, sweepFielded } = await import('./evaluate-sweep.js');
    const config = loadConfig();
    const grid = parseSweepGrid(options.sweep, config.fielded);
    const latentDir = latentModelDir(options.latentModel, config);
    const latentModel =
      latentDir === undefined
        ? undefined
        : await EmbeddingModel.load({ ...config.model, dir: path.resolve(latentDir) });
    const result = await sweepFielded({
      grid,
      sets: sweepSets(options),
      k,
      minPosts: options.minPosts,
      latentModel,
      onProgress: (line) => console.error(line),
    });
    await latentModel?.release();
    console.log(formatSweep(result, grid));
    if (options.json) console.log(JSON.stringify(result));
    return;
  }
  // As the batch does: a model.dir that is not a model's folder (a typo, a half-copied export)
  // stops the command here, not every tenant at its embed step with advice about its items.
  configuredModelDir(loadConfig().model);
  if (options.allDatasets) {
    const algorithms = options.algorithms ?? [...SUITE_ALGORITHMS];
    const suite = await evaluateSuite({
      sets: options.sets,
      algorithms,
      k,
      minPosts: options.minPosts,
    });
    console.log(formatSuite(suite));
    if (options.json) console.log(JSON.stringify(suite));
    return;
  }
  if (!options.items || !options.pairs)
    throw new ConfigError('Pass --items ITEMS.jsonl and --pairs PAIRS.tsv, or --all-datasets.');
  const algorithms = options.algorithms ?? [...ALGORITHMS];
  const result = await evaluate(options.items, options.pairs, algorithms, k, {
    interactions: options.interactions,
    minPosts: options.minPosts,
  });
  console.log(formatTable(result));
  if (options.json) console.log(JSON.stringify(summaryJson(result)));
}
