/**
 * Scratch folders and generated posts for the benchmarks (osusume bench orchestration) and the
 * tests. They live here, not under test/, because the benchmarks ship with the command; the tests
 * import them through test/helpers/fixtures.ts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../core/config.js';
import { createRandom } from '../core/random.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';

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
