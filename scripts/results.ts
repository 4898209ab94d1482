/**
 * Online test results in one command, from the API's logs (DuckDB over the local JSONL files, or
 * BigQuery's log tables when the warehouse is BigQuery).
 *   osusume results [--experiment ID] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--sequential] [--json]
 */
import { loadConfig } from '../core/config.js';
import { plural } from '../core/errors.js';
import { loadExperiments } from '../core/experiments.js';
import { MIN_COUNT, SEQUENTIAL_TUNING } from '../core/stats.js';
import {
  buildReport,
  openResultsSource,
  rangeBounds,
  type ExperimentResult,
  type ResultsRange,
  type ResultsReport,
  type SplitCheck,
} from '../core/results.js';

const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : '-');
const signedPct = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${pct(v)}` : '-');
const pValue = (p: number) => (!Number.isFinite(p) ? '-' : p < 0.0001 ? '<0.0001' : p.toFixed(4));

const SRM_MISMATCH =
  'MISMATCH (p < 0.001): users do not reach the variants in the shares the split gives (a variant that fails or redirects, bots, exposures lost before they are logged); do not trust these results until you know why';
// Exposures logged before they named their split are checked against the file's weights today: a
// test whose weights changed (raised, as the file's comments suggest) mismatches over the change.
const SRM_MISMATCH_UNLOGGED =
  'MISMATCH (p < 0.001): the split is broken, or its weights or holdout changed within this range (then pass --from the day of the change); do not trust these results until you know which';

function formatSampleRatio(srm: NonNullable<ExperimentResult['srm']>): string[] {
  const against = (c: SplitCheck) =>
    `p = ${pValue(c.pValue)} against ${Object.entries(c.expectedShares)
      .map(([v, s]) => `${v} ${pct(s)}`)
      .join(', ')}`;
  const verdict = !srm.mismatch
    ? 'ok'
    : srm.splits.some((c) => c.split === null)
      ? SRM_MISMATCH_UNLOGGED
      : SRM_MISMATCH;
  const later = srm.notCheckedSince.map(
    (since) => `    split since ${since}: not checked yet (too few users)`,
  );
  const n = srm.splits.length;
  if (n === 1 && later.length === 0)
    return [`  sample ratio: ${against(srm.splits[0]!)}: ${verdict}`];
  return [
    `  sample ratio, each split of the range on its own: p = ${pValue(srm.pValue)}${n > 1 ? ` (the smallest of ${n} p-values, times ${n})` : ''}: ${verdict}`,
    ...srm.splits.map((c) => `    split since ${c.since}: ${against(c)}`),
    ...later,
  ];
}

function formatExperiment(e: ExperimentResult): string[] {
  const header = [
    'variant',
    'users',
    'exposures',
    'clicks',
    'CTR',
    '95% CI',
    'lift',
    '95% CI',
    'p',
  ];
  const rows = e.variants.map((v) => [
    v.variant + (v.variant === e.control ? ' (control)' : ''),
    String(v.users),
    String(v.exposures),
    String(v.clicks),
    pct(v.ctr),
    v.ctrInterval ? `[${pct(v.ctrInterval[0])}, ${pct(v.ctrInterval[1])}]` : '-',
    v.lift ? signedPct(v.lift.value) : '',
    v.lift ? `[${signedPct(v.lift.interval[0])}, ${signedPct(v.lift.interval[1])}]` : '',
    v.lift ? pValue(v.lift.pValue) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const lines = [`${e.experiment} (${e.type === 'ab' ? 'A/B' : 'interleaving'})`];
  for (const cells of [header, ...rows])
    lines.push(
      '  ' +
        cells
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
    );
  if (e.control !== null && !e.variants.some((v) => v.variant === e.control))
    lines.push(
      `  ${e.control} (control): no exposures in this range yet, so no lifts (is it served? see osusume validate)`,
    );
  const short = e.variants.filter((v) => e.tooLittleData.includes(v.variant));
  const unseen = e.tooLittleData.filter(
    (n) => n !== e.control && !e.variants.some((v) => v.variant === n),
  );
  if (short.length > 0 || unseen.length > 0)
    lines.push(
      `  too little data yet for ${[
        ...short.map(
          (v) =>
            `${v.variant} (${plural(v.users, 'user')}, ${v.clicks} of ${v.exposures} exposures clicked)`,
        ),
        ...unseen.map((n) => `${n} (no exposures)`),
      ].join(
        ', ',
      )}: an interval, lift and p-value need at least ${MIN_COUNT} users, ${MIN_COUNT} clicked and ${MIN_COUNT} unclicked exposures per variant; let the test run longer`,
    );
  // Each p-value is for its variant alone: of several, one falls below 0.05 by chance more often.
  const lifts = e.variants.filter((v) => v.lift).length;
  if (lifts > 1)
    lines.push(
      `  ${lifts} variants against ${e.control}: to call any of them better at 5 %, ask p < ${(0.05 / lifts).toFixed(4)} of it (Bonferroni), not 0.05`,
    );
  if (e.srm) {
    lines.push(...formatSampleRatio(e.srm));
  } else if (e.srmNotChecked === 'too-few-users') {
    lines.push(
      `  sample ratio: not checked yet (too few users: it needs at least ${MIN_COUNT} expected in every group of the split)`,
    );
  } else if (e.srmNotChecked === 'no-split') {
    lines.push(
      '  sample ratio: nothing to check (no holdout: every user gets the interleaved list)',
    );
  } else {
    lines.push(
      '  sample ratio: not checked (its logs name no split, and the experiment is no longer in the experiments file)',
    );
  }
  const il = e.interleaving;
  if (il) {
    const decided = il.wins + il.losses + il.ties;
    lines.push(
      `  preference (requests with clicks: ${decided}): ${il.teams[0]} ${il.wins} wins, ${il.teams[1]} ${il.losses} wins, ${il.ties} ties; sign test p = ${pValue(il.pValue)}`,
    );
  }
  return lines;
}

export function formatReport(report: ResultsReport): string {
  const { exposure, outcome } = report.skipped;
  return [
    `Results from ${report.range.from ?? 'the first log'} to ${report.range.to ?? 'the last log'} (UTC; CTR = clicked exposures / exposures, intervals per user)`,
    report.method === 'sequential'
      ? `Sequential: every interval and p-value stays valid however often you read them (tightest near ${SEQUENTIAL_TUNING.toLocaleString('en-US')} users; wider than fixed-horizon ones)`
      : 'Fixed-horizon: read once, at the end you planned; reading daily, pass --sequential',
    '',
    ...report.experiments.flatMap((e) => [...formatExperiment(e), '']),
    ...report.withoutExposures.flatMap(({ experiment, surface }) => [
      `${experiment}: no exposures in this range yet. Is a request with surface=${surface} reaching the API for its tenants? (osusume validate says which tenants are not ready for it)`,
      '',
    ]),
    `malformed log rows skipped: ${exposure.malformed} of ${exposure.rows} exposure, ${outcome.malformed} of ${outcome.rows} outcome`,
  ].join('\n');
}

export interface ResultsCommandOptions extends ResultsRange {
  json?: boolean;
  sequential?: boolean;
}

export async function resultsCommand(options: ResultsCommandOptions): Promise<void> {
  const range: ResultsRange = {
    from: options.from,
    to: options.to,
    experiment: options.experiment,
  };
  rangeBounds(range);
  const config = loadConfig();
  const file = loadExperiments(config.experimentsFile);
  const source = openResultsSource(config.warehouse, config.api.logsDir);
  try {
    const report = buildReport(await source.read(range), range, file, {
      method: options.sequential ? 'sequential' : 'fixed-horizon',
    });
    console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
  } finally {
    await source.close();
  }
}
