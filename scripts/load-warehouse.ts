/**
 * Loads JSONL (optionally .gz) or Parquet exports into the local DuckDB warehouse.
 *   osusume load --posts FILE [--interactions FILE] [--replace] [--skipped FILE]
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../core/config.js';
import { BadDataError, ConfigError, plural } from '../core/errors.js';
import { DuckDbWarehouse, type Table } from '../core/warehouse/duckdb.js';
import { missingExport } from '../core/warehouse/jsonl.js';
import { openOutputFile } from './files.js';

export interface LoadCommandOptions {
  posts?: string;
  interactions?: string;
  replace?: boolean;
  /** Where to write every skipped row (JSON lines: table, file, line, reason). */
  skipped?: string;
}

/** Skipped rows printed on the terminal per table; --skipped FILE lists them all. */
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
  /** Skipped lines reported per table (Parquet rows without a tenantId are counted, not reported). */
  const reported = new Map<Table, number>();
  const where = (lines: number) =>
    report
      ? `listed in ${skippedFile}`
      : lines > SHOWN_SKIPPED
        ? `the first ${SHOWN_SKIPPED} listed above; --skipped FILE lists them all`
        : 'listed above';
  let warehouse: DuckDbWarehouse | undefined;
  try {
    warehouse = await DuckDbWarehouse.open(config.warehouse.path);
    const results = await warehouse
      .importFiles(
        files.map(([table, file]) => ({ table, file })),
        {
          replace: options.replace,
          onSkipped: (row, table) => {
            report?.write(JSON.stringify({ table, ...row }) + '\n');
            const n = (reported.get(table) ?? 0) + 1;
            reported.set(table, n);
            if (n <= SHOWN_SKIPPED)
              console.error(`  skipped ${row.file}:${row.line}: ${row.reason}`);
          },
        },
      )
      .catch((error: unknown) => {
        // A refused replace: say where its skipped lines are, as the summary would have.
        const lines = [...reported.values()].reduce((a, b) => a + b, 0);
        throw error instanceof BadDataError && lines > 0
          ? new BadDataError(`${error.message} Why each line was skipped: ${where(lines)}.`)
          : error;
      });
    for (const [i, r] of results.entries()) {
      const lines = reported.get(r.table) ?? 0;
      console.log(
        `${r.table}: ${plural(r.rows, 'row')} loaded from ${files[i]![1]}${r.skipped ? `, ${plural(r.skipped, 'row')} skipped${lines > 0 ? ` (${where(lines)})` : ''}` : ''}`,
      );
    }
  } finally {
    await warehouse?.close();
    await report?.close();
  }
}
