import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { ConfigError } from '../errors.js';

/**
 * Checks a JSONL export line by line before DuckDB reads it, so that every rejected row is
 * reported with its line number and reason, and a value of the wrong type (a numeric postId)
 * is rejected rather than cast to a string behind the user's back.
 */
export interface SkippedRow {
  file: string;
  /** 1-based line number in the (decompressed) file. */
  line: number;
  reason: string;
}

type FieldType = 'id' | 'string' | 'timestamp' | 'boolean';

/** Each table's columns: ids are required non-empty strings, the others optional but for REQUIRED. */
const JSONL_COLUMNS: Record<'posts' | 'interactions', Record<string, FieldType>> = {
  posts: {
    tenantId: 'id',
    postId: 'id',
    title: 'string',
    body: 'string',
    createdAt: 'timestamp',
    updatedAt: 'timestamp',
    deleted: 'boolean',
    lang: 'string',
  },
  interactions: {
    tenantId: 'id',
    userId: 'id',
    postId: 'id',
    type: 'string',
    ts: 'timestamp',
  },
};

/**
 * Columns besides the ids that a row must have: those BigQuery's table requires
 * (infra/components/warehouse.ts), which the pipeline would skip the row without.
 */
const REQUIRED: Record<'posts' | 'interactions', readonly string[]> = {
  posts: [],
  interactions: ['type', 'ts'],
};

/** The error for an export path that names no file. */
export function missingExport(table: string, file: string): ConfigError {
  return new ConfigError(
    `The ${table} file ${file} does not exist: pass the path of a JSONL (.jsonl, .jsonl.gz) or Parquet export.`,
  );
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Why a parsed line is not a row of the table, or null when it is one. */
function rowProblem(
  row: unknown,
  columns: Record<string, FieldType>,
  required: readonly string[],
): string | null {
  if (typeof row !== 'object' || row === null || Array.isArray(row))
    return `not a JSON object (${describe(row)})`;
  const record = row as Record<string, unknown>;
  for (const [name, type] of Object.entries(columns)) {
    const value = record[name];
    if (type === 'id') {
      if (value === undefined || value === null || value === '') return `no ${name}`;
      if (typeof value !== 'string')
        return `${name} is ${describe(value)} (${JSON.stringify(value)}), not a string: write ids as JSON strings`;
      continue;
    }
    if (value === undefined || value === null) {
      if (required.includes(name)) return `no ${name}`;
      continue;
    }
    if (type === 'boolean' && typeof value !== 'boolean')
      return `${name} is ${describe(value)}, not true or false`;
    if ((type === 'string' || type === 'timestamp') && typeof value !== 'string')
      return `${name} is ${describe(value)}, not a string`;
    if (type === 'timestamp' && Number.isNaN(Date.parse(value as string)))
      return `${name} ${JSON.stringify(value)} is not a date (use ISO 8601, e.g. 2026-11-22T09:00:00Z)`;
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A surrogate escape (`\ud800`): the only way a line that is valid UTF-8 holds a surrogate. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why a line holds a lone surrogate (`"\ud800"` without its pair), or null when it holds none:
 * JSON.parse takes one, but DuckDB's reader drops the whole line, without a line number or reason.
 */
function loneSurrogateProblem(text: string): string | null {
  if (!SURROGATE_ESCAPE.test(text)) return null;
  let field: string | null = null;
  JSON.parse(text, (key: string, value: unknown) => {
    if (field !== null) return value;
    if (LONE_SURROGATE.test(key)) field = 'a key';
    else if (typeof value === 'string' && LONE_SURROGATE.test(value)) field = key;
    return value;
  });
  return field === null
    ? null
    : `${field} holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), which is not text: fix the export's encoding`;
}

/** Why a non-blank line of a table's export is not one of its rows, or null when it is one. */
export function lineProblem(table: 'posts' | 'interactions', text: string): string | null {
  let row: unknown;
  try {
    row = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  return rowProblem(row, JSONL_COLUMNS[table], REQUIRED[table]) ?? loneSurrogateProblem(text);
}

/**
 * Copies the valid lines of `file` (JSONL, optionally gzipped) to `out`, calling `onSkipped` for
 * every other non-blank line. Returns the counts.
 */
export async function checkJsonl(
  file: string,
  table: 'posts' | 'interactions',
  out: string,
  onSkipped: (row: SkippedRow) => void,
): Promise<{ rows: number; skipped: number }> {
  const input = createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? missingExport(table, file)
          : new ConfigError(`Cannot read the ${table} file ${file}: ${error.message}`),
      ),
    );
  });
  const output = createWriteStream(out);
  const counts = { rows: 0, skipped: 0 };
  let lineNumber = 0;
  const take = (bytes: Buffer) => {
    lineNumber += 1;
    let reason: string | null;
    let text = '';
    try {
      text = utf8.decode(bytes);
      if (text.trim() === '') return;
      reason = lineProblem(table, text);
    } catch {
      reason = 'not valid UTF-8';
    }
    if (reason) {
      counts.skipped += 1;
      onSkipped({ file, line: lineNumber, reason });
    } else {
      counts.rows += 1;
      output.write(text + '\n');
    }
  };
  let rest = Buffer.alloc(0);
  const source = file.endsWith('.gz') ? input.pipe(createGunzip()) : input;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let data = Buffer.concat([rest, chunk]);
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
        take(data.subarray(0, nl));
        data = data.subarray(nl + 1);
      }
      rest = data;
    }
  } catch (error) {
    output.destroy();
    throw new ConfigError(
      `Cannot read ${file} (is it gzip-compressed as its name says?): ${(error as Error).message}`,
    );
  }
  if (rest.length > 0) take(rest);
  output.end();
  await once(output, 'finish');
  return counts;
}
