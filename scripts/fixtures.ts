/**
 * Scratch folders and generated posts for the benchmarks (osusume bench orchestration) and the
 * tests. They live here, not under test/, because the benchmarks ship with the command; the tests
 * import them through test/helpers/fixtures.ts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Config } from '../core/config.js';
import { createRandom } from '../core/random.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';
import { checkoutFile } from './files.js';

/** A new folder under the system's temporary folder, and a function that removes it. */
export function tempDir(prefix = 'osusume-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const TOPICS: Record<string, string[]> = {
  cooking: ['recipe', 'oven', 'flour', 'butter', 'bake', 'dough', 'sugar', 'knead'],
  cycling: ['bike', 'wheel', 'chain', 'saddle', 'gear', 'pedal', 'tyre', 'brake'],
  astronomy: ['telescope', 'planet', 'orbit', 'galaxy', 'comet', 'nebula', 'lens', 'star'],
  gardening: ['soil', 'seed', 'compost', 'tomato', 'prune', 'water', 'bloom', 'root'],
};

export interface GeneratedPost {
  tenantId: string;
  postId: string;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  topic: string;
}

/** Posts about a few topics: a post's true neighbours are the posts of its topic. */
export function topicPosts(tenantId: string, count: number, seed = 1): GeneratedPost[] {
  const random = createRandom(seed);
  const topics = Object.keys(TOPICS);
  return Array.from({ length: count }, (_, i) => {
    const topic = topics[i % topics.length]!;
    const words = TOPICS[topic]!;
    const pick = () => words[Math.floor(random() * words.length)]!;
    const ts = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString();
    return {
      tenantId,
      postId: `p${String(i).padStart(4, '0')}`,
      title: `${pick()} and ${pick()}`,
      body: Array.from({ length: 12 }, pick).join(' '),
      createdAt: ts,
      updatedAt: ts,
      topic,
    };
  });
}

export function writeJsonl(file: string, rows: unknown[]): string {
  writeFileSync(
    file,
    rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n',
  );
  return file;
}

/** Loads rows into the configured DuckDB warehouse (appending unless `replace`). */
export async function loadPosts(
  config: Config,
  rows: unknown[],
  options: { replace?: boolean } = {},
): Promise<void> {
  if (config.warehouse.kind !== 'duckdb')
    throw new Error('fixtures load only a DuckDB warehouse: configure warehouse.kind duckdb.');
  const w = await DuckDbWarehouse.open(config.warehouse.path);
  const file = `${path.dirname(config.warehouse.path)}/posts-${randomUUID()}.jsonl`;
  await w.importFile('posts', writeJsonl(file, rows), options);
  await w.close();
}

/** A post of the demo dataset (demo/posts.jsonl.gz): man pages in English and Japanese. */
export type DemoPost = Omit<GeneratedPost, 'topic'>;

/** The first `perTenant` posts of every tenant of the demo dataset (man pages, 16 tenants). */
export function demoSubset(perTenant: number): DemoPost[] {
  const file = checkoutFile('demo/posts.jsonl.gz');
  const taken = new Map<string, number>();
  return gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as DemoPost)
    .filter((p) => {
      const n = taken.get(p.tenantId) ?? 0;
      taken.set(p.tenantId, n + 1);
      return n < perTenant;
    });
}

/**
 * `count` distinct posts of real text for one tenant, as many as a test or benchmark needs: the
 * demo's man pages recombined, each the title and first half of one page with the second half of
 * another (picked by a seeded random), so the tenant has the demo's vocabulary and text lengths.
 */
export function variedDemoPosts(tenantId: string, count: number, seed = 1): DemoPost[] {
  const pages = demoSubset(Infinity);
  const random = createRandom(seed);
  const pick = () => pages[Math.floor(random() * pages.length)]!;
  const texts = new Set<string>();
  const posts: DemoPost[] = [];
  while (posts.length < count) {
    const [first, second] = [pick(), pick()];
    const body = `${first.body.slice(0, first.body.length >> 1)} ${second.body.slice(second.body.length >> 1)}`;
    const text = `${first.title}\n${body}`;
    if (texts.has(text)) continue;
    texts.add(text);
    posts.push({
      tenantId,
      postId: `v${String(posts.length).padStart(6, '0')}`,
      title: first.title,
      body,
      createdAt: first.createdAt,
      updatedAt: first.updatedAt,
    });
  }
  return posts;
}
