/**
 * Deletes the local state: the DuckDB warehouse, the LMDB store, the run artifacts and the API
 * logs (and, with `keys`, the API key file). Set-up output (.osusume/build, .osusume/bin),
 * datasets and models stay. Cloud backends (BigQuery, Firestore) are never touched.
 *   osusume reset [--yes] [--keys]
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../core/config.js';
import { plural } from '../core/errors.js';
import { confirm } from './confirm.js';

export interface ResetCommandOptions {
  /** Skip the confirmation (scripts, CI). */
  yes?: boolean;
  /** Also delete the API key file (every key issued stops working). */
  keys?: boolean;
}

/** The local paths that hold state, each with what it is; only those that exist. */
function localState(config: Config, keys: boolean): [string, string][] {
  const entries: [string, string][] = [];
  if (config.warehouse.kind === 'duckdb') {
    const w = config.warehouse.path;
    const dir = path.dirname(w);
    entries.push(
      [w, 'the warehouse (posts, interactions, run records)'],
      [`${w}.wal`, 'its write-ahead log'],
      [path.join(dir, 'demo-posts.jsonl'), "the demo's posts export"],
      [path.join(dir, 'demo-interactions.jsonl'), "the demo's interactions export"],
      [path.join(dir, 'demo-api-keys.json'), "the demo's API key"],
    );
  }
  if (config.store.kind === 'lmdb')
    entries.push(
      [config.store.path, 'the served lists'],
      [`${config.store.path}-lock`, 'its lock file'],
    );
  entries.push([config.artifactsDir, 'run artifacts'], [config.api.logsDir, 'API logs']);
  if (keys) entries.push([config.api.keysFile, 'API keys (hashes)']);
  return entries.filter(([p]) => existsSync(p));
}

export async function resetCommand(options: ResetCommandOptions): Promise<void> {
  const config = loadConfig();
  const entries = localState(config, options.keys ?? false);
  if (entries.length === 0) {
    console.log('No local state to delete.');
    return;
  }
  console.log('This deletes:');
  for (const [p, what] of entries) console.log(`  ${p}  (${what})`);
  if (!options.yes) {
    const refusal = 'Not deleting without confirmation: run it in a terminal, or pass --yes.';
    if (!(await confirm('Delete them?', refusal))) {
      console.log('Nothing deleted.');
      return;
    }
  }
  for (const [p] of entries) rmSync(p, { recursive: true, force: true });
  console.log(`Deleted ${plural(entries.length, 'path')}.`);
}
