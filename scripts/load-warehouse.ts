/**
 * Loads JSONL (optionally .gz) or Parquet exports into the local DuckDB warehouse.
 *   npm run load -- --posts FILE [--interactions FILE] [--replace]
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      posts: { type: 'string' },
      interactions: { type: 'string' },
      replace: { type: 'boolean', default: false },
    },
  });
  const config = loadConfig();
  if (config.warehouse.kind !== 'duckdb')
    throw new ConfigError(
      'npm run load fills the local DuckDB warehouse; the configured warehouse is BigQuery.',
    );
  if (!values.posts && !values.interactions)
    throw new ConfigError('Nothing to load: pass --posts FILE and/or --interactions FILE.');
  const warehouse = await DuckDbWarehouse.open(config.warehouse.path);
  try {
    for (const [table, file] of [
      ['posts', values.posts],
      ['interactions', values.interactions],
    ] as const) {
      if (!file) continue;
      const r = await warehouse.importFile(table, file, { replace: values.replace });
      console.log(
        `${table}: ${r.rows} rows loaded from ${file}${r.skipped ? `, ${r.skipped} malformed lines skipped` : ''}`,
      );
    }
  } finally {
    await warehouse.close();
  }
}

main().catch((error) => {
  console.error(`load failed: ${errorMessage(error)}`);
  process.exit(1);
});
