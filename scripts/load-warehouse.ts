/**
 * Loads JSONL (optionally .gz) or Parquet exports into the local DuckDB warehouse.
 *   osusume load --posts FILE [--interactions FILE] [--replace]
 */
import { loadConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';

export interface LoadCommandOptions {
  posts?: string;
  interactions?: string;
  replace?: boolean;
}

export async function loadCommand(options: LoadCommandOptions): Promise<void> {
  const config = loadConfig();
  if (config.warehouse.kind !== 'duckdb')
    throw new ConfigError(
      'osusume load fills the local DuckDB warehouse; the configured warehouse is BigQuery.',
    );
  if (!options.posts && !options.interactions)
    throw new ConfigError('Nothing to load: pass --posts FILE and/or --interactions FILE.');
  const warehouse = await DuckDbWarehouse.open(config.warehouse.path);
  try {
    for (const [table, file] of [
      ['posts', options.posts],
      ['interactions', options.interactions],
    ] as const) {
      if (!file) continue;
      const r = await warehouse.importFile(table, file, { replace: options.replace });
      console.log(
        `${table}: ${r.rows} rows loaded from ${file}${r.skipped ? `, ${r.skipped} malformed lines skipped` : ''}`,
      );
    }
  } finally {
    await warehouse.close();
  }
}
