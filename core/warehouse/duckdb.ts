import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { BackendError, BadDataError, ConfigError, plural } from '../errors.js';
import { checkJsonl, missingExport, type SkippedRow } from './jsonl.js';
import {
  runRecordFromRow,
  runRecordToRow,
  type RunRecord,
  type TenantSummary,
  type Warehouse,
} from './types.js';

/**
 * The embedded warehouse: one DuckDB file holding `posts` and `interactions` tables, filled from
 * JSONL or Parquet exports. Every value travels as a bound parameter ($1, $2), never as SQL text.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS posts (
  tenantId VARCHAR, postId VARCHAR, title VARCHAR, body VARCHAR,
  createdAt TIMESTAMP, updatedAt TIMESTAMP, deleted BOOLEAN, lang VARCHAR);
CREATE TABLE IF NOT EXISTS interactions (
  tenantId VARCHAR, userId VARCHAR, postId VARCHAR, type VARCHAR, ts TIMESTAMP);
CREATE TABLE IF NOT EXISTS run_records (
  runId VARCHAR, tenantId VARCHAR, recordedAt TIMESTAMP, codeVersion VARCHAR, modelId VARCHAR,
  params VARCHAR, inputs VARCHAR, metrics VARCHAR, seconds VARCHAR, artifacts VARCHAR);`;

// TIMESTAMPTZ, not TIMESTAMP: read as TIMESTAMP, "09:00:00+09:00" would lose its offset and be
// stored as 09:00 UTC, where BigQuery's TIMESTAMP column holds 00:00 UTC.
const POST_JSON_COLUMNS = `{tenantId: 'VARCHAR', postId: 'VARCHAR', title: 'VARCHAR', body: 'VARCHAR',
  createdAt: 'TIMESTAMPTZ', updatedAt: 'TIMESTAMPTZ', deleted: 'BOOLEAN', lang: 'VARCHAR'}`;
const INTERACTION_JSON_COLUMNS = `{tenantId: 'VARCHAR', userId: 'VARCHAR', postId: 'VARCHAR', type: 'VARCHAR', ts: 'TIMESTAMPTZ'}`;

export type Table = 'posts' | 'interactions';

/**
 * A row the table takes: its ids, and the columns BigQuery's table requires (the JSONL check
 * applies the same rule line by line; a Parquet export is held to it here).
 */
const VALID_ROW: Record<Table, string> = {
  posts: 'tenantId IS NOT NULL AND postId IS NOT NULL',
  interactions:
    'tenantId IS NOT NULL AND userId IS NOT NULL AND postId IS NOT NULL AND type IS NOT NULL AND ts IS NOT NULL',
};

export interface ImportResult {
  table: Table;
  rows: number;
  /** Lines that were not valid JSON, not UTF-8, or not a row of the table (see jsonl.ts). */
  skipped: number;
}

/** An export ready for DuckDB: `source` holds its valid rows; `skipped` counts the lines left out. */
interface CheckedExport {
  table: Table;
  file: string;
  source: string;
  skipped: number;
}

/**
 * DuckDB's words for a file it cannot read as a database: cut short (a copy or a disk that ran
 * out), a block whose checksum does not match, or a header that is not DuckDB's. A file cut short
 * past its catalog opens, and fails at the first read of a lost block.
 */
const DAMAGED =
  /Could not read enough bytes|Corrupt database file|not a valid DuckDB database file/;

/** DuckDB's message names the file but not what to do; this one says how to rebuild it. */
function damagedWarehouse(file: string, cause: string): ConfigError {
  return new ConfigError(
    `The DuckDB warehouse ${file} is damaged (${cause}): move it away (with ${file}.wal, if there is one) and load your exports again (osusume load --posts FILE --interactions FILE, or npm run demo for the demo's), or delete all local state with osusume reset. The run records it held go with it.`,
  );
}

/** DuckDB's words for a file another process has open (its message names that process). */
const LOCKED = /Could not set lock on file/;

/**
 * DuckDB lets one process open a file for writing, and its message stops at the process holding
 * it: say which of ours keep it open, and what to do.
 */
function lockedWarehouse(file: string, cause: string): ConfigError {
  return new ConfigError(
    `Cannot open the DuckDB warehouse at ${file}: ${cause}. DuckDB lets one process at a time open it (an osusume worker keeps it open while it runs, other commands until they end): stop that process or wait for it to end, then run again.`,
  );
}

function plain(value: DuckDBValue): unknown {
  if (typeof value === 'bigint') return Number(value);
  return value;
}

export class DuckDbWarehouse implements Warehouse {
  private constructor(
    private readonly file: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(file: string): Promise<DuckDbWarehouse> {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(file);
    } catch (error) {
      const cause = (error as Error).message;
      if (DAMAGED.test(cause)) throw damagedWarehouse(file, cause);
      if (LOCKED.test(cause)) throw lockedWarehouse(file, cause);
      throw new ConfigError(
        `Cannot open the DuckDB warehouse at ${file}: ${cause}. Is another process using it?`,
      );
    }
    const connection = await instance.connect();
    // The TIMESTAMP columns hold UTC, as BigQuery's do. DuckDB's zone is the machine's: a
    // TIMESTAMPTZ (a JSONL time with an offset, a Parquet time adjusted to UTC) would be stored
    // as local wall-clock time, and a date without a time as local midnight.
    await connection.run(`SET TimeZone = 'UTC'`);
    await connection.run(SCHEMA);
    return new DuckDbWarehouse(file, instance, connection);
  }

  private async query(sql: string, params: DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
    try {
      const reader = await this.connection.runAndReadAll(sql, params);
      return reader
        .getRowObjects()
        .map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])));
    } catch (error) {
      // DuckDB appends the statement ("LINE 1: SELECT ..."): the operator needs the cause only.
      const cause = (error as Error).message.split(/\n\s*LINE \d+:/)[0]!.trim();
      if (DAMAGED.test(cause)) throw damagedWarehouse(this.file, cause);
      throw new BackendError(`DuckDB query failed: ${cause}`);
    }
  }

  async listTenants(): Promise<TenantSummary[]> {
    const rows = await this.query(
      'SELECT tenantId, count(*) AS posts FROM posts WHERE tenantId IS NOT NULL GROUP BY tenantId ORDER BY tenantId',
    );
    return rows.map((r) => ({ tenantId: String(r.tenantId), posts: Number(r.posts) }));
  }

  async readPosts(tenantId: string, since?: string): Promise<Record<string, unknown>[]> {
    return this.query(
      `SELECT tenantId, postId, title, body, CAST(createdAt AS VARCHAR) AS createdAt,
              CAST(updatedAt AS VARCHAR) AS updatedAt, deleted, lang
         FROM posts
        WHERE tenantId = $1 AND ($2::TIMESTAMP IS NULL OR updatedAt >= $2::TIMESTAMP)
        ORDER BY postId, updatedAt`,
      [tenantId, since ? toDuckTimestamp(since) : null],
    );
  }

  async readInteractions(tenantId: string, since?: string): Promise<Record<string, unknown>[]> {
    return this.query(
      `SELECT tenantId, userId, postId, type, CAST(ts AS VARCHAR) AS ts
         FROM interactions
        WHERE tenantId = $1 AND ($2::TIMESTAMP IS NULL OR ts >= $2::TIMESTAMP)
        ORDER BY ts`,
      [tenantId, since ? toDuckTimestamp(since) : null],
    );
  }

  async writeRunRecord(record: RunRecord): Promise<void> {
    const row = runRecordToRow(record);
    // One record per run, tenant and outcome, as BigQuery's insert id keys them: a re-run
    // replaces the record of its outcome, and a failed re-run of an activated run id keeps the
    // record of what that version serves (rollback and start-test read it).
    await this.query(
      `DELETE FROM run_records WHERE runId = $1 AND tenantId = $2
          AND (json_extract(params, '$.failure') IS NOT NULL) = $3`,
      [record.runId, record.tenantId, record.failure !== undefined],
    );
    await this.query(
      `INSERT INTO run_records VALUES ($1, $2, $3::TIMESTAMP, $4, $5, $6, $7, $8, $9, $10)`,
      [
        row.runId,
        row.tenantId,
        toDuckTimestamp(record.recordedAt),
        row.codeVersion,
        row.modelId,
        row.params,
        row.inputs,
        row.metrics,
        row.seconds,
        row.artifacts,
      ],
    );
  }

  async listRunRecords(options: { tenantId?: string; limit: number }): Promise<RunRecord[]> {
    const rows = await this.query(
      `SELECT runId, tenantId, CAST(recordedAt AS VARCHAR) AS recordedAt, codeVersion, modelId, params, inputs, metrics, seconds, artifacts
         FROM run_records WHERE ($1::VARCHAR IS NULL OR tenantId = $1) ORDER BY recordedAt DESC, tenantId LIMIT $2`,
      [options.tenantId ?? null, options.limit],
    );
    return rows.map(runRecordFromRow);
  }

  /** Appends a JSONL (optionally .gz) or Parquet export to a table; see importFiles. */
  async importFile(
    table: Table,
    file: string,
    options: { replace?: boolean; onSkipped?: (row: SkippedRow) => void } = {},
  ): Promise<ImportResult> {
    const [result] = await this.importFiles([{ table, file }], options);
    return result!;
  }

  /**
   * Appends JSONL (optionally .gz) or Parquet exports to their tables in one transaction: an
   * export that fails leaves every table as it was. `replace` empties each table first, and is
   * refused for an export without a valid row: a rejected or empty export would empty the table.
   */
  async importFiles(
    sources: { table: Table; file: string }[],
    options: { replace?: boolean; onSkipped?: (row: SkippedRow, table: Table) => void } = {},
  ): Promise<ImportResult[]> {
    const dir = mkdtempSync(path.join(tmpdir(), 'osusume-import-'));
    try {
      // Every export is checked before the transaction starts: DuckDB reads only valid lines.
      const checked: CheckedExport[] = [];
      for (const [i, { table, file }] of sources.entries()) {
        if (/\.parquet$/i.test(file)) {
          if (!existsSync(file)) throw missingExport(table, file);
          checked.push({ table, file, source: file, skipped: 0 });
          continue;
        }
        const source = path.join(dir, `${i}.jsonl`);
        const { skipped } = await checkJsonl(file, table, source, (row) =>
          options.onSkipped?.(row, table),
        );
        checked.push({ table, file, source, skipped });
      }
      return await this.importChecked(checked, options.replace ?? false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async importChecked(exports: CheckedExport[], replace: boolean): Promise<ImportResult[]> {
    await this.connection.run('BEGIN TRANSACTION');
    try {
      const results: ImportResult[] = [];
      for (const e of exports) results.push(await this.importOne(e, replace));
      await this.connection.run('COMMIT');
      return results;
    } catch (error) {
      await this.connection.run('ROLLBACK');
      throw error;
    }
  }

  /** Imports one checked export, inside importChecked's transaction (an error rolls it back). */
  private async importOne(e: CheckedExport, replace: boolean): Promise<ImportResult> {
    const { table, file } = e;
    const columns = table === 'posts' ? POST_JSON_COLUMNS : INTERACTION_JSON_COLUMNS;
    const source = /\.parquet$/i.test(e.source)
      ? 'read_parquet($1)'
      : `read_json($1, format = 'newline_delimited', columns = ${columns}, ignore_errors = true)`;
    try {
      const [total] = await this.query(
        `SELECT count(*) AS n, count(*) FILTER (WHERE ${VALID_ROW[table]}) AS ok FROM ${source}`,
        [e.source],
      );
      const valid = Number(total?.ok ?? 0);
      const skipped = e.skipped + Number(total?.n ?? 0) - valid;
      if (replace && valid === 0)
        throw new BadDataError(
          `Nothing was loaded: ${file} holds no ${skipped > 0 ? `valid ${table} row (${plural(skipped, 'line')} skipped)` : `${table} row`}, and replacing the ${table} table with it would empty the table. Fix the export and load it again.`,
        );
      if (replace) await this.connection.run(`DELETE FROM ${table}`);
      const before = Number((await this.query(`SELECT count(*) AS n FROM ${table}`))[0]?.n ?? 0);
      // BY NAME: optional columns (deleted, lang) may be absent from a Parquet export.
      await this.query(
        `INSERT INTO ${table} BY NAME SELECT * FROM ${source} WHERE ${VALID_ROW[table]}`,
        [e.source],
      );
      const after = Number((await this.query(`SELECT count(*) AS n FROM ${table}`))[0]?.n ?? 0);
      return { table, rows: after - before, skipped };
    } catch (error) {
      throw error instanceof BackendError
        ? new BackendError(
            `Importing ${file} into ${table} failed (nothing was imported): ${error.message}`,
          )
        : error;
    }
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** DuckDB TIMESTAMP has no zone; the warehouse stores UTC. */
function toDuckTimestamp(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace('Z', '');
}
