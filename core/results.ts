import { readdirSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { BigQuery } from '@google-cloud/bigquery';
import type { WarehouseConfig } from './config.js';
import { BackendError, BadDataError } from './errors.js';
import { sharesOfSplit, splitOf, type Experiment, type ExperimentsFile } from './experiments.js';
import {
  ctr,
  enoughData,
  interval,
  MIN_COUNT,
  relativeLift,
  sampleRatioPValue,
  sequentialInterval,
  sequentialPValue,
  signTestPValue,
  SRM_THRESHOLD,
  type Estimate,
  type UserSums,
  zeroPValue,
} from './stats.js';

/**
 * Online test results from the API's logs: per experiment and variant the users, exposures,
 * clicked exposures and CTR with a per-user 95% interval, the lift against control with its
 * interval and p-value, a sample-ratio check under each split the exposures name, and for
 * interleaving the per-request preference with a sign test. The same aggregates run on DuckDB
 * over the local JSONL logs and on BigQuery over the typed log tables; the statistics are computed
 * here from their sums.
 * An exposure counts as clicked when a `click` outcome names its request and one of its items.
 */
export interface ResultsRange {
  /** Inclusive UTC dates (YYYY-MM-DD); open when absent. */
  from?: string;
  to?: string;
  experiment?: string;
}

export interface VariantRow extends UserSums {
  experiment: string;
  variant: string;
}

/**
 * Users of a variant under one split (core/experiments.ts `splitOf`; null in logs written before
 * exposures named it), and the first day in the range an exposure under it was logged.
 */
export interface SplitRow {
  experiment: string;
  split: string | null;
  variant: string;
  users: number;
  since: string;
}

/** Requests of an interleaving experiment whose clicks favoured `winner` (a team, or "tie"). */
export interface PreferenceRow {
  experiment: string;
  winner: string;
  requests: number;
}

export interface LogCounts {
  exposure: { rows: number; malformed: number };
  outcome: { rows: number; malformed: number };
}

export interface ResultRows {
  variants: VariantRow[];
  splits: SplitRow[];
  preferences: PreferenceRow[];
  counts: LogCounts;
}

export interface ResultsSource {
  read(range: ResultsRange): Promise<ResultRows>;
  close(): Promise<void>;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** [start, end) of the range as timestamps; bad or inverted dates are an error naming them. */
export function rangeBounds(range: ResultsRange): { start: string; end: string } {
  const day = (value: string, option: string) => {
    const t = DATE.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
    if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== value)
      throw new BadDataError(
        `${option} ${JSON.stringify(value)} is not a date: use YYYY-MM-DD (UTC).`,
      );
    return t;
  };
  const start = range.from ? day(range.from, '--from') : Date.UTC(1970, 0, 1);
  const end = range.to ? day(range.to, '--to') + 86_400_000 : Date.UTC(9999, 0, 1);
  if (end <= start)
    throw new BadDataError(`--from ${range.from} is after --to ${range.to}: swap them.`);
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

// The aggregates (per variant, per split, interleaving preferences), per dialect. Exposures are
// de-duplicated by requestId and outcomes by tenant and eventId; outcomes count up to a day after
// the range (a click comes after its exposure). A click credits an exposure of its own tenant
// only: a backend holding one tenant's key cannot add clicks to another's results, whatever
// request ids it sends.
// An interleaved list that runs short is filled from the popular list without a team: a click
// on such an item credits neither team (it would otherwise be a team of its own, making a tie).
const DUCKDB_EXPOSURES = `
WITH exposures AS (
  SELECT requestId, tenantId, experiment, variant, split, userId, ts, items FROM exposure_log
  WHERE experiment IS NOT NULL AND variant IS NOT NULL AND ts >= $start::TIMESTAMPTZ AND ts < $end::TIMESTAMPTZ
    AND ($experiment IS NULL OR experiment = $experiment)
)`;

const DUCKDB_VARIANTS = `${DUCKDB_EXPOSURES},
shown AS (SELECT requestId, tenantId, unnest(items).postId AS postId FROM exposures),
clicks AS (
  SELECT DISTINCT tenantId, eventId, requestId, postId FROM outcome_log
  WHERE type = 'click' AND ts >= $start::TIMESTAMPTZ AND ts < $end::TIMESTAMPTZ + INTERVAL 1 DAY
),
clicked AS (SELECT DISTINCT c.requestId FROM clicks c JOIN shown s USING (tenantId, requestId, postId)),
per_user AS (
  SELECT e.experiment, e.variant, e.userId, count(*) AS x, count(k.requestId) AS y
  FROM exposures e LEFT JOIN clicked k USING (requestId) GROUP BY ALL
)
SELECT experiment, variant, count(*) AS users, sum(x) AS exposures, sum(y) AS clicks,
       sum(x * x) AS sumX2, sum(y * y) AS sumY2, sum(x * y) AS sumXY
FROM per_user GROUP BY ALL ORDER BY ALL`;

const DUCKDB_SPLITS = `${DUCKDB_EXPOSURES}
SELECT experiment, split, variant, count(DISTINCT userId) AS users,
       strftime(min(ts), '%Y-%m-%d') AS since
FROM exposures GROUP BY ALL ORDER BY ALL`;

const DUCKDB_PREFERENCES = `
WITH shown AS (
  SELECT requestId, tenantId, experiment, item.postId AS postId, item.team AS team
  FROM (SELECT requestId, tenantId, experiment, unnest(items) AS item FROM exposure_log
        WHERE variant = 'interleaved' AND ts >= $start::TIMESTAMPTZ AND ts < $end::TIMESTAMPTZ
          AND ($experiment IS NULL OR experiment = $experiment))
),
clicks AS (
  SELECT DISTINCT tenantId, eventId, requestId, postId FROM outcome_log
  WHERE type = 'click' AND ts >= $start::TIMESTAMPTZ AND ts < $end::TIMESTAMPTZ + INTERVAL 1 DAY
),
credited AS (
  SELECT s.requestId, s.experiment, s.team, count(*) AS clicks
  FROM clicks c JOIN shown s USING (tenantId, requestId, postId) WHERE s.team IS NOT NULL GROUP BY ALL
),
per_request AS (
  SELECT requestId, experiment, max_by(team, clicks) AS leader, max(clicks) AS top,
         min(clicks) AS low, count(*) AS teams
  FROM credited GROUP BY ALL
)
SELECT experiment, CASE WHEN teams = 2 AND top = low THEN 'tie' ELSE leader END AS winner,
       count(*) AS requests
FROM per_request GROUP BY ALL ORDER BY ALL`;

const bigQueryExposures = (table: (name: string) => string) => `
WITH exposures AS (
  SELECT requestId, tenantId, experiment, variant, split, userId, ts, items
  FROM ${table('exposure_log')}
  WHERE experiment IS NOT NULL AND variant IS NOT NULL AND requestId IS NOT NULL
    AND userId IS NOT NULL AND ts >= @start AND ts < @end
    AND (@experiment IS NULL OR experiment = @experiment)
  QUALIFY ROW_NUMBER() OVER (PARTITION BY requestId) = 1
)`;

const bigQueryVariants = (table: (name: string) => string) => `${bigQueryExposures(table)},
shown AS (SELECT e.requestId, e.tenantId, item.postId FROM exposures AS e, UNNEST(e.items) AS item),
clicks AS (
  SELECT DISTINCT tenantId, eventId, requestId, postId FROM ${table('outcome_log')}
  WHERE type = 'click' AND ts >= @start AND ts < TIMESTAMP_ADD(@end, INTERVAL 1 DAY)
),
clicked AS (SELECT DISTINCT c.requestId FROM clicks c JOIN shown s USING (tenantId, requestId, postId)),
per_user AS (
  SELECT e.experiment, e.variant, e.userId, COUNT(*) AS x, COUNT(k.requestId) AS y
  FROM exposures e LEFT JOIN clicked k USING (requestId) GROUP BY 1, 2, 3
)
SELECT experiment, variant, COUNT(*) AS users, SUM(x) AS exposures, SUM(y) AS clicks,
       SUM(x * x) AS sumX2, SUM(y * y) AS sumY2, SUM(x * y) AS sumXY
FROM per_user GROUP BY 1, 2 ORDER BY 1, 2`;

const bigQuerySplits = (table: (name: string) => string) => `${bigQueryExposures(table)}
SELECT experiment, split, variant, COUNT(DISTINCT userId) AS users,
       FORMAT_TIMESTAMP('%F', MIN(ts)) AS since
FROM exposures GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;

const bigQueryPreferences = (table: (name: string) => string) => `
WITH shown AS (
  SELECT e.requestId, e.tenantId, e.experiment, item.postId, item.team
  FROM ${table('exposure_log')} AS e, UNNEST(e.items) AS item
  WHERE e.variant = 'interleaved' AND e.ts >= @start AND e.ts < @end
    AND (@experiment IS NULL OR e.experiment = @experiment)
),
clicks AS (
  SELECT DISTINCT tenantId, eventId, requestId, postId FROM ${table('outcome_log')}
  WHERE type = 'click' AND ts >= @start AND ts < TIMESTAMP_ADD(@end, INTERVAL 1 DAY)
),
credited AS (
  SELECT s.requestId, s.experiment, s.team, COUNT(*) AS clicks
  FROM clicks c JOIN shown s USING (tenantId, requestId, postId) WHERE s.team IS NOT NULL GROUP BY 1, 2, 3
),
per_request AS (
  SELECT requestId, experiment, ARRAY_AGG(team ORDER BY clicks DESC LIMIT 1)[OFFSET(0)] AS leader,
         MAX(clicks) AS top, MIN(clicks) AS low, COUNT(*) AS teams
  FROM credited GROUP BY 1, 2
)
SELECT experiment, IF(teams = 2 AND top = low, 'tie', leader) AS winner, COUNT(*) AS requests
FROM per_request GROUP BY 1, 2 ORDER BY 1, 2`;

const bigQueryCounts = (table: (name: string) => string) => `
SELECT 'exposure' AS log, COUNT(*) AS rows,
       COUNTIF(requestId IS NULL OR userId IS NULL OR tenantId IS NULL) AS malformed
FROM ${table('exposure_log')} WHERE ts >= @start AND ts < @end
UNION ALL
SELECT 'outcome' AS log, COUNT(*) AS rows,
       COUNTIF(requestId IS NULL OR postId IS NULL OR type IS NULL) AS malformed
FROM ${table('outcome_log')} WHERE ts >= @start AND ts < TIMESTAMP_ADD(@end, INTERVAL 1 DAY)`;

const num = (v: unknown) => Number(v ?? 0);

function toVariantRow(r: Record<string, unknown>): VariantRow {
  return {
    experiment: String(r.experiment),
    variant: String(r.variant),
    users: num(r.users),
    exposures: num(r.exposures),
    clicks: num(r.clicks),
    sumX2: num(r.sumX2),
    sumY2: num(r.sumY2),
    sumXY: num(r.sumXY),
  };
}

function toSplitRow(r: Record<string, unknown>): SplitRow {
  return {
    experiment: String(r.experiment),
    split: typeof r.split === 'string' ? r.split : null,
    variant: String(r.variant),
    users: num(r.users),
    since: String(r.since),
  };
}

function toPreferenceRow(r: Record<string, unknown>): PreferenceRow {
  return {
    experiment: String(r.experiment),
    winner: String(r.winner),
    requests: num(r.requests),
  };
}

function logFiles(dir: string, log: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.startsWith(`${log}-`) && f.endsWith('.jsonl'));
  } catch {
    return [];
  }
}

/**
 * The local logs ({logsDir}/exposure-DATE.jsonl, outcome-DATE.jsonl) read as text lines, so that
 * one bad line (not JSON, a field of the wrong type, a requestId DuckDB would have typed as a
 * UUID) is counted and skipped instead of failing the whole read.
 */
export class DuckDbLogResults implements ResultsSource {
  constructor(private readonly logsDir: string) {}

  async read(range: ResultsRange): Promise<ResultRows> {
    const { start, end } = rangeBounds(range);
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    // Days of 24 hours, as BigQuery's TIMESTAMP_ADD counts them: in the machine's zone, a day
    // added across a daylight-saving change would be 23 or 25.
    await connection.run(`SET TimeZone = 'UTC'`);
    const run = async (sql: string, params: Record<string, string | null> = {}) =>
      (await connection.runAndReadAll(sql, params)).getRowObjectsJson() as Record<
        string,
        unknown
      >[];
    try {
      const lines = `SELECT try_cast(line AS JSON) AS j FROM (
           SELECT unnest(string_split(content, chr(10))) AS line FROM read_text($glob)
         ) WHERE trim(line) <> ''`;
      // `log` and `columns` are constants of this file; the folder is a parameter.
      const load = async (log: 'exposure' | 'outcome', columns: string) => {
        const files = logFiles(this.logsDir, log);
        if (files.length === 0 && log === 'exposure')
          throw new BadDataError(
            `No exposure logs in ${this.logsDir} (exposure-DATE.jsonl): is the API writing there (api.logSink: file, api.logsDir)?`,
          );
        try {
          await run(
            `CREATE TEMP TABLE ${log}_lines AS SELECT ${columns} FROM (${files.length > 0 ? lines : 'SELECT NULL::JSON AS j WHERE false'})`,
            files.length > 0 ? { glob: `${this.logsDir}/${log}-*.jsonl` } : {},
          );
        } catch (error) {
          throw new BackendError(`Reading the ${log} logs failed: ${(error as Error).message}`);
        }
        // An eventId is unique within its tenant (the API and load-logs.sql de-duplicate by both).
        await run(
          `CREATE TEMP TABLE ${log}_log AS SELECT * EXCLUDE (valid) FROM ${log}_lines WHERE valid
           QUALIFY row_number() OVER (PARTITION BY ${log === 'exposure' ? 'requestId' : 'tenantId, eventId'}) = 1`,
        );
      };
      await load(
        'exposure',
        `j->>'requestId' AS requestId, j->>'tenantId' AS tenantId, j->>'userId' AS userId,
         try_cast(j->>'ts' AS TIMESTAMPTZ) AS ts, j->>'experiment' AS experiment,
         j->>'variant' AS variant, j->>'split' AS split,
         try(from_json(j->'items', '[{"postId":"VARCHAR","team":"VARCHAR"}]')) AS items,
         (requestId IS NOT NULL AND tenantId IS NOT NULL AND userId IS NOT NULL
          AND ts IS NOT NULL AND items IS NOT NULL) AS valid`,
      );
      await load(
        'outcome',
        `j->>'eventId' AS eventId, j->>'tenantId' AS tenantId, j->>'requestId' AS requestId,
         j->>'postId' AS postId, j->>'type' AS type, try_cast(j->>'ts' AS TIMESTAMPTZ) AS ts,
         (eventId IS NOT NULL AND tenantId IS NOT NULL AND requestId IS NOT NULL
          AND postId IS NOT NULL AND type IS NOT NULL AND ts IS NOT NULL) AS valid`,
      );
      const params = { start, end, experiment: range.experiment ?? null };
      // Malformed lines have no trustworthy date: all of them count, with the rows in range.
      const count = async (log: string, lateDays: number) =>
        (
          await run(
            `SELECT count(*) AS rows, count(*) FILTER (WHERE NOT valid) AS malformed
             FROM ${log}_lines
             WHERE NOT valid OR (ts >= $start::TIMESTAMPTZ AND ts < $end::TIMESTAMPTZ + to_days(${lateDays}))`,
            { start, end },
          )
        ).map((r) => ({ rows: num(r.rows), malformed: num(r.malformed) }))[0]!;
      return {
        variants: (await run(DUCKDB_VARIANTS, params)).map(toVariantRow),
        splits: (await run(DUCKDB_SPLITS, params)).map(toSplitRow),
        preferences: (await run(DUCKDB_PREFERENCES, params)).map(toPreferenceRow),
        counts: {
          exposure: await count('exposure', 0),
          outcome: await count('outcome', 1),
        },
      };
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  }

  async close(): Promise<void> {}
}

/** The typed, day-partitioned log tables that infra/sql/load-logs.sql fills hourly. */
export class BigQueryLogResults implements ResultsSource {
  private readonly client: BigQuery;

  constructor(
    private readonly options: {
      projectId: string;
      dataset: string;
      location: string;
      apiEndpoint?: string;
    },
  ) {
    this.client = new BigQuery({
      projectId: options.projectId,
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    });
  }

  private readonly table = (name: string) =>
    `\`${this.options.projectId}.${this.options.dataset}.${name}\``;

  private async query(
    sql: string,
    params: Record<string, unknown>,
    types: Record<string, string>,
  ): Promise<Record<string, unknown>[]> {
    try {
      const [rows] = await this.client.query({
        query: sql,
        params,
        types,
        location: this.options.location,
        useLegacySql: false,
      });
      return rows as Record<string, unknown>[];
    } catch (error) {
      const message = (error as Error).message;
      // A column this version reads that tables deployed by an older one lack (e.g. split).
      const column = /Unrecognized name: (\w+)/.exec(message)?.[1];
      throw new BackendError(
        `BigQuery results query failed: ${message}${column ? `. The log tables have no column ${column}: they predate this version of osusume; run \`pulumi up\` for this environment to add it, then run results again.` : ''}`,
      );
    }
  }

  async read(range: ResultsRange): Promise<ResultRows> {
    const { start, end } = rangeBounds(range);
    const params = {
      start: BigQuery.timestamp(start),
      end: BigQuery.timestamp(end),
      experiment: range.experiment ?? null,
    };
    const types = { start: 'TIMESTAMP', end: 'TIMESTAMP', experiment: 'STRING' };
    const [variants, splits, preferences, counts] = await Promise.all([
      this.query(bigQueryVariants(this.table), params, types),
      this.query(bigQuerySplits(this.table), params, types),
      this.query(bigQueryPreferences(this.table), params, types),
      this.query(
        bigQueryCounts(this.table),
        { start: params.start, end: params.end },
        { start: 'TIMESTAMP', end: 'TIMESTAMP' },
      ),
    ]);
    const count = (log: string) => {
      const row = counts.find((r) => r.log === log);
      return { rows: num(row?.rows), malformed: num(row?.malformed) };
    };
    return {
      variants: variants.map(toVariantRow),
      splits: splits.map(toSplitRow),
      preferences: preferences.map(toPreferenceRow),
      counts: { exposure: count('exposure'), outcome: count('outcome') },
    };
  }

  async close(): Promise<void> {}
}

/** Where the logs of this deployment are: local JSONL files, or BigQuery's log tables. */
export function openResultsSource(warehouse: WarehouseConfig, logsDir: string): ResultsSource {
  return warehouse.kind === 'bigquery'
    ? new BigQueryLogResults(warehouse)
    : new DuckDbLogResults(logsDir);
}

export interface VariantResult {
  variant: string;
  users: number;
  exposures: number;
  clicks: number;
  ctr: number;
  /** Null when the variant has too little data for one (see tooLittleData). */
  ctrInterval: [number, number] | null;
  /** Against control; absent for control itself, and when either has too little data. */
  lift?: { value: number; interval: [number, number]; pValue: number };
}

/** The sample-ratio check of the users assigned under one split. */
export interface SplitCheck {
  /** The first day (UTC) of the range an exposure under this split was logged. */
  since: string;
  /**
   * The split as the logs name it; null for exposures logged before they named one, which are
   * checked against the experiments file's weights today (wrong if those changed since).
   */
  split: string | null;
  expectedShares: Record<string, number>;
  users: Record<string, number>;
  pValue: number;
}

export interface ExperimentResult {
  experiment: string;
  type: 'ab' | 'interleaving';
  control: string | null;
  variants: VariantResult[];
  srm: {
    /** The smallest p-value of the splits' checks times their number (Bonferroni). */
    pValue: number;
    /** The shares of the last split checked. */
    expectedShares: Record<string, number>;
    mismatch: boolean;
    /** Each split of the range checked on its own, in the order they were first logged. */
    splits: SplitCheck[];
    /** First days of the splits not checked yet: a group of theirs expects too few users. */
    notCheckedSince: string[];
  } | null;
  /**
   * Why srm is null: the logs name no split and the experiment is not in the experiments file (no
   * weights to check against), it splits no users (interleaving without a holdout: every user gets
   * the interleaved list), or a group of each split expects fewer than MIN_COUNT users so far.
   */
  srmNotChecked?: 'not-in-file' | 'no-split' | 'too-few-users';
  /**
   * Variants (the holdout included) with fewer than MIN_COUNT users, clicked or unclicked
   * exposures, or declared and without exposures: no interval, lift or p-value is given for them.
   */
  tooLittleData: string[];
  interleaving?: {
    /** Requests whose clicks favoured the first variant (wins), the second (losses), or neither. */
    teams: [string, string];
    wins: number;
    losses: number;
    ties: number;
    /** The sign test's (fixed-horizon), or the first team's share against one half (sequential). */
    pValue: number;
  };
}

/**
 * How intervals and p-values are computed: `fixed-horizon` for one reading at an end planned
 * before the test (read daily, a 95% interval excludes the truth by chance far more often than
 * 5%), `sequential` for reading them as often as one likes (always valid; wider).
 */
export type Method = 'fixed-horizon' | 'sequential';

export interface ResultsReport {
  range: { from: string | null; to: string | null };
  method: Method;
  experiments: ExperimentResult[];
  /**
   * Experiments of the file that had started and overlap the range but have no exposure in it
   * (a test started today before any request named its surface): named, not silently left out.
   */
  withoutExposures: { experiment: string; surface: string }[];
  skipped: LogCounts;
}

/**
 * The variant others are compared with: "control" if there is one, else the first declared, even
 * before it has exposures (then no lift is computed, rather than one against another variant).
 * An experiment gone from the file is judged by the variants its logs name.
 */
function controlOf(declared: Experiment | undefined, seen: string[]): string | null {
  const names = declared
    ? declared.variants.map((v) => v.name)
    : [...seen].filter((n) => n !== 'holdout').sort();
  return names.includes('control') ? 'control' : (names[0] ?? null);
}

/**
 * The sample-ratio check of each split the logs name. Users are counted per split, so a weight
 * raised mid-test starts a second check instead of failing the first. A user in a group the split
 * gives no share (a variant of weight 0, a name it lacks) fails its check outright.
 */
function splitChecks(rows: SplitRow[], declared: Experiment | undefined) {
  const checks: SplitCheck[] = [];
  const tooFew: string[] = [];
  let known = false;
  for (const split of [...new Set(rows.map((r) => r.split))]) {
    const mine = rows.filter((r) => r.split === split);
    const text = split ?? (declared ? splitOf(declared) : null);
    const shares = text === null ? null : sharesOfSplit(text);
    if (!shares) continue;
    known = true;
    const users: Record<string, number> = {};
    for (const r of mine) users[r.variant] = r.users;
    const total = mine.reduce((a, r) => a + r.users, 0);
    const groups = Object.keys(shares).filter((n) => shares[n]! > 0);
    const stray = mine.some((r) => !(shares[r.variant]! > 0) && r.users > 0);
    if (groups.length < 2 && !stray) continue;
    const since = mine.reduce((a, r) => (r.since < a ? r.since : a), mine[0]!.since);
    if (!stray && groups.some((n) => total * shares[n]! < MIN_COUNT)) {
      tooFew.push(since);
      continue;
    }
    const pValue = stray
      ? 0
      : sampleRatioPValue(
          groups.map((n) => users[n] ?? 0),
          groups.map((n) => shares[n]!),
        );
    checks.push({ since, split, expectedShares: shares, users, pValue });
  }
  checks.sort((a, b) => a.since.localeCompare(b.since));
  return { checks, tooFew: tooFew.sort(), known };
}

function sampleRatio(
  rows: SplitRow[],
  declared: Experiment | undefined,
): Pick<ExperimentResult, 'srm' | 'srmNotChecked'> {
  const { checks, tooFew, known } = splitChecks(rows, declared);
  if (checks.length === 0)
    return {
      srm: null,
      srmNotChecked: tooFew.length > 0 ? 'too-few-users' : known ? 'no-split' : 'not-in-file',
    };
  const pValue = Math.min(1, Math.min(...checks.map((c) => c.pValue)) * checks.length);
  return {
    srm: {
      pValue,
      expectedShares: checks.at(-1)!.expectedShares,
      mismatch: pValue < SRM_THRESHOLD,
      splits: checks,
      notCheckedSince: tooFew,
    },
  };
}

/** Interval and p-value of an estimate from `n` users, by the method. */
function inference(method: Method) {
  return method === 'sequential'
    ? {
        interval: (e: Estimate, n: number) => sequentialInterval(e, n),
        pValue: (e: Estimate, n: number) => sequentialPValue(e, n),
      }
    : { interval: (e: Estimate) => interval(e), pValue: (e: Estimate) => zeroPValue(e) };
}

/**
 * The interleaving sign test: exact when read once; read as often as one likes, the share of
 * decided requests won by the first team against one half, its variance under that null.
 */
function preferencePValue(wins: number, losses: number, method: Method): number {
  const n = wins + losses;
  if (method === 'fixed-horizon' || n === 0) return signTestPValue(wins, losses);
  return sequentialPValue({ value: wins / n - 0.5, variance: 0.25 / n }, n);
}

function experimentResult(
  experiment: string,
  rows: VariantRow[],
  splits: SplitRow[],
  preferences: PreferenceRow[],
  declared: Experiment | undefined,
  method: Method,
): ExperimentResult {
  const { interval: intervalOf, pValue } = inference(method);
  const interleaved = declared
    ? declared.type === 'interleaving'
    : rows.some((r) => r.variant === 'interleaved');
  const control = interleaved
    ? null
    : controlOf(
        declared,
        rows.map((r) => r.variant),
      );
  const controlRow = rows.find((r) => r.variant === control);
  const controlCtr = controlRow && enoughData(controlRow) ? ctr(controlRow) : undefined;
  const variants = rows.map((r): VariantResult => {
    const estimate = ctr(r);
    const enough = enoughData(r);
    const result: VariantResult = {
      variant: r.variant,
      users: r.users,
      exposures: r.exposures,
      clicks: r.clicks,
      ctr: estimate.value,
      ctrInterval: enough ? intervalOf(estimate, r.users) : null,
    };
    if (enough && controlCtr && r.variant !== control && r.variant !== 'holdout') {
      const lift = relativeLift(estimate, controlCtr);
      const users = r.users + controlRow!.users;
      result.lift = {
        value: lift.value,
        interval: intervalOf(lift, users),
        pValue: pValue(lift, users),
      };
    }
    return result;
  });
  const unseen = (declared?.variants ?? [])
    .filter((v) => !interleaved && v.weight > 0 && !rows.some((r) => r.variant === v.name))
    .map((v) => v.name);
  const result: ExperimentResult = {
    experiment,
    type: interleaved ? 'interleaving' : 'ab',
    control,
    variants,
    ...sampleRatio(splits, declared),
    tooLittleData: [
      ...variants.filter((v) => v.ctrInterval === null).map((v) => v.variant),
      ...unseen,
    ],
  };
  if (interleaved) {
    const mine = preferences.filter((p) => p.experiment === experiment);
    const teams = (
      declared
        ? declared.variants.map((v) => v.name)
        : [...new Set(mine.map((p) => p.winner).filter((w) => w !== 'tie'))].sort()
    ) as string[];
    const [a = 'a', b = 'b'] = teams;
    const of = (w: string) => mine.find((p) => p.winner === w)?.requests ?? 0;
    const wins = of(a);
    const losses = of(b);
    result.interleaving = {
      teams: [a, b],
      wins,
      losses,
      ties: of('tie'),
      pValue: preferencePValue(wins, losses, method),
    };
  }
  return result;
}

/** An experiment that had started by `now` and whose window meets the range's [start, end). */
function overlapsRange(e: Experiment, range: { start: string; end: string }, now: number): boolean {
  const start = e.start ? Date.parse(e.start) : -Infinity;
  const end = e.end ? Date.parse(e.end) : Infinity;
  return start <= now && start < Date.parse(range.end) && Date.parse(range.start) < end;
}

/**
 * The report over what the source read. An experiment asked for by id that has no exposures in
 * the range is an error that lists the ones that have; so are logs with no experiment exposures.
 */
export function buildReport(
  rows: ResultRows,
  range: ResultsRange,
  file: ExperimentsFile,
  { now = Date.now(), method = 'fixed-horizon' }: { now?: number; method?: Method } = {},
): ResultsReport {
  const ids = [...new Set(rows.variants.map((r) => r.experiment))].sort();
  if (ids.length === 0) {
    const where = `${range.from ?? 'the beginning'} to ${range.to ?? 'now'}`;
    throw new BadDataError(
      range.experiment
        ? `No exposures of experiment "${range.experiment}" from ${where}. ${file.experiments.some((e) => e.id === range.experiment) ? 'It is declared: check its start and tenants, or widen --from/--to.' : `It is not in the experiments file either (declared: ${file.experiments.map((e) => e.id).join(', ') || 'none'}).`}`
        : `No experiment exposures from ${where}: widen --from/--to, or check that an experiment is running (osusume validate).`,
    );
  }
  return {
    range: { from: range.from ?? null, to: range.to ?? null },
    method,
    withoutExposures: range.experiment
      ? []
      : file.experiments
          .filter((e) => !ids.includes(e.id) && overlapsRange(e, rangeBounds(range), now))
          .map((e) => ({ experiment: e.id, surface: e.surface })),
    experiments: ids.map((id) =>
      experimentResult(
        id,
        rows.variants.filter((r) => r.experiment === id),
        rows.splits.filter((r) => r.experiment === id),
        rows.preferences,
        file.experiments.find((e) => e.id === id),
        method,
      ),
    ),
    skipped: rows.counts,
  };
}
