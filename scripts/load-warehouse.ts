/**
 * Loads JSONL (optionally .gz) or Parquet exports into the local DuckDB warehouse.
 *   osusume load --posts FILE [--interactions FILE] [--replace] [--skipped FILE]
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';
import { missingExport } from '../core/warehouse/jsonl.js';
import { openOutputFile } from './files.js';

export interface LoadCommandOptions {
  posts?: string;
  interactions?: string;
  replace?: boolean;
  /** Where to write every skipped row (JSON lines: table, file, line, reason). */
  skipped?: string;
}

/** Skipped rows printed on the terminal; the rest go to --skipped FILE. */
const SHOWN_SKIPPED = 5;

export async function loadCommand(options: LoadCommandOptions): Promise<void> {
  const config = loadConfig();
  if (config.warehouse.kind !== 'duckdb')
    throw new ConfigError(
      'osusume load fills the local DuckDB warehouse; the configured warehouse is BigQuery.',
    );
  const files = (
    [
      ['posts', options.posts],
      ['interactions', options.interactions],
    ] as const
  ).filter((entry): entry is ['posts' | 'interactions', string] => entry[1] !== undefined);
  if (files.length === 0)
    throw new ConfigError('Nothing to load: pass --posts FILE and/or --interactions FILE.');
  // Both files are checked before either is loaded: a typo must not leave half a load behind.
  for (const [table, file] of files) if (!existsSync(file)) throw missingExport(table, file);
  const skippedFile = options.skipped;
  const overwritten = files.find(
    ([, file]) => skippedFile !== undefined && path.resolve(file) === path.resolve(skippedFile),
  );
  if (overwritten)
    throw new ConfigError(
      `--skipped ${overwritten[1]} is the ${overwritten[0]} file being loaded: pass --skipped another file (nothing was changed).`,
    );
  const report = skippedFile ? await openOutputFile(skippedFile, '--skipped') : undefined;
  const warehouse = await DuckDbWarehouse.open(config.warehouse.path);
  try {
    for (const [table, file] of files) {
      let shown = 0;
      const r = await warehouse.importFile(table, file, {
        replace: options.replace,
        onSkipped: (row) => {
          report?.write(JSON.stringify({ table, ...row }) + '\n');
          if (shown++ < SHOWN_SKIPPED)
            console.error(`  skipped ${row.file}:${row.line}: ${row.reason}`);
        },
      });
      if (r.skipped > SHOWN_SKIPPED)
        console.error(
          `  ... and ${r.skipped - SHOWN_SKIPPED} more${report ? '' : ' (--skipped FILE lists them all)'}`,
        );
      console.log(
        `${table}: ${r.rows} rows loaded from ${file}${r.skipped ? `, ${r.skipped} rows skipped${report ? ` (listed in ${options.skipped})` : ''}` : ''}`,
      );
    }
  } finally {
    await warehouse.close();
    await report?.close();
  }
}
