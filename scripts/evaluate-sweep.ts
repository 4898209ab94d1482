/**
 * Choosing the default lists' weights across every evaluation set, and checking the choice:
 *   osusume evaluate --all-datasets --sweep "idfPower=1,2 containment=0.05,0.1" [--sets a,b]
 * Every combination of the listed `fielded` weights (the others at their configured values) is
 * scored on every set against the set's plain TF-IDF baseline; the best combination is the one
 * with the best worst ratio, the only criterion the default may be chosen by. Leave-one-set-out:
 * for each set, the combination chosen on the other sets, and its ratio on the held-out one.
 * Fast because it stays in memory: the sets' posts go through the batch's own validation,
 * snapshot and list functions (fieldedLists, lexicalLists), without warehouse, store or workflow;
 * the figures to publish come from `evaluate --all-datasets` (the real batch), with the chosen
 * weights in the configuration.
 */
import { readFileSync } from 'node:fs';
import { lexicalLists, fieldedLists, type FieldedWeights } from '../activities/lexical.js';
import { loadConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { evaluateLists, macroAverage, relatedSets } from '../core/evaluation.js';
import {
  interactionRowSchema,
  toSnapshotPost,
  validatePostRow,
  type Interaction,
  type SnapshotPost,
} from '../core/posts.js';
import type { RelatedList } from '../core/store/types.js';
import { suiteSets } from './evaluate-suite.js';
import { readItems, readPairs, storedListLength } from './evaluate.js';

export type SweepGrid = Partial<Record<keyof FieldedWeights, number[]>>;

/** `name=v1,v2 name=v3`: the fielded weights to vary and their values. */
export function parseSweepGrid(spec: string, defaults: FieldedWeights): SweepGrid {
  const grid: SweepGrid = {};
  for (const part of spec.trim().split(/\s+/).filter(Boolean)) {
    const [name, values] = part.split('=');
    if (!name || !(name in defaults))
      throw new ConfigError(
        `--sweep: "${name}" is not a fielded weight; choose from ${Object.keys(defaults).join(', ')}.`,
      );
    const numbers = (values ?? '').split(',').map(Number);
    if (!values || numbers.some((n) => !Number.isFinite(n)))
      throw new ConfigError(`--sweep: give ${name} a comma-separated list of numbers (${part}).`);
    grid[name as keyof FieldedWeights] = numbers;
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

/** A set's tenants with queries, their posts as the batch snapshots them. */
function loadTenants(files: { items: string; pairs: string; interactions?: string }): Tenant[] {
  const { pipeline } = loadConfig();
  const pairs = readPairs(files.pairs);
  const interactions: Interaction[] = [];
  if (files.interactions)
    for (const line of readFileSync(files.interactions, 'utf8').split('\n')) {
      // Rows the warehouse import would skip are skipped here too.
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        continue;
      }
      const parsed = interactionRowSchema.safeParse(row);
      if (parsed.success) interactions.push(parsed.data);
    }
  // The catalogue holds every item, as in `evaluate`: an item the batch skips still has its pairs.
  const catalogues = new Map<string, Set<string>>();
  const byTenant = new Map<string, Map<string, SnapshotPost>>();
  const ts = '2024-01-01T00:00:00.000Z';
  for (const item of readItems(files.items).items) {
    const catalogue = catalogues.get(item.tenant) ?? new Set<string>();
    catalogues.set(item.tenant, catalogue.add(item.id));
    const posts = byTenant.get(item.tenant) ?? new Map<string, SnapshotPost>();
    byTenant.set(item.tenant, posts);
    const verdict = validatePostRow(
      {
        tenantId: item.tenant,
        postId: item.id,
        title: item.title,
        body: item.body,
        createdAt: ts,
        updatedAt: ts,
      },
      pipeline,
    );
    if (verdict.ok) posts.set(item.id, toSnapshotPost(verdict.post, pipeline.maxTextChars));
  }
  return [...byTenant]
    .map(([tenant, posts]) => {
      const catalogue = catalogues.get(tenant)!;
      return {
        // In the snapshot's order (extract), which breaks ties between equal scores.
        posts: [...posts.values()].sort((a, b) => (a.postId < b.postId ? -1 : 1)),
        interactions: interactions.filter((i) => i.tenantId === tenant),
        related: relatedSets(pairs.get(tenant) ?? [], catalogue),
        catalogue,
      };
    })
    .filter((t) => t.related.size > 0);
}

function macroNdcg(tenants: Tenant[], lists: (t: Tenant) => RelatedList[], k: number): number {
  const metrics = tenants.map((t) => {
    const byPost = new Map(lists(t).map((l) => [l.postId, l.items.map((i) => i.postId)]));
    return evaluateLists(byPost, t.related, t.catalogue, k);
  });
  return macroAverage(metrics).ndcg;
}

export interface SweepResult {
  sets: string[];
  /** Every combination: its weights, ratio to the baseline per set (same order), worst ratio. */
  rows: { weights: FieldedWeights; ratios: number[]; worst: number }[];
  /** Per set: the combination with the best worst ratio on the other sets, and its ratio here. */
  leaveOneOut: { held: string; weights: FieldedWeights; heldRatio: number; othersWorst: number }[];
}

export function sweepFielded(options: {
  grid: SweepGrid;
  sets?: string[];
  k: number;
  dataDir: string;
  onProgress?: (line: string) => void;
}): SweepResult {
  const defaults = loadConfig().fielded;
  const listLength = storedListLength(options.k);
  const data = suiteSets(options.sets).map((set) => {
    const tenants = loadTenants(set.files(options.dataDir));
    return {
      name: set.name,
      tenants,
      base: macroNdcg(tenants, (t) => lexicalLists(t.posts, listLength), options.k),
    };
  });
  const rows = combinations(options.grid, defaults).map((weights) => {
    const ratios = data.map(
      (set) =>
        macroNdcg(
          set.tenants,
          (t) => fieldedLists(t.posts, t.interactions, listLength, weights),
          options.k,
        ) / set.base,
    );
    const row = { weights, ratios, worst: Math.min(...ratios) };
    options.onProgress?.(`${describe(weights, options.grid)}: worst ${row.worst.toFixed(3)}`);
    return row;
  });
  const leaveOneOut = data.map((set, held) => {
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
  return { sets: data.map((d) => d.name), rows, leaveOneOut };
}

/** The varied weights of a combination, as the grid names them. */
function describe(weights: FieldedWeights, grid: SweepGrid): string {
  return Object.keys(grid)
    .map((name) => `${name}=${weights[name as keyof FieldedWeights]}`)
    .join(' ');
}

export function formatSweep(result: SweepResult, grid: SweepGrid): string {
  const ratio = (x: number) => `${x.toFixed(3)}x`;
  const ranked = [...result.rows].sort((a, b) => b.worst - a.worst);
  const lines = [
    'fielded weights by worst ratio to the lexical baseline (in memory, the batch functions)',
    ['weights', ...result.sets, 'worst'].join('\t'),
    ...ranked.map((r) =>
      [describe(r.weights, grid), ...r.ratios.map(ratio), ratio(r.worst)].join('\t'),
    ),
    `best worst ratio: ${describe(ranked[0]!.weights, grid)} (${ratio(ranked[0]!.worst)})`,
    'leave one set out: weights chosen on the other sets, ratio on the held-out one',
    ['held out', 'weights', 'held-out ratio', 'worst of the others'].join('\t'),
    ...result.leaveOneOut.map((l) =>
      [l.held, describe(l.weights, grid), ratio(l.heldRatio), ratio(l.othersWorst)].join('\t'),
    ),
  ];
  return lines.join('\n');
}
