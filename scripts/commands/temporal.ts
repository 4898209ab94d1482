import type { Command } from 'commander';
import type { TemporalAction, TemporalCommandOptions } from '../temporal.js';
import { examples, runId, TEMPORAL_ENVIRONMENT, tenantId } from './options.js';

// Any run id works (fault-inject and the benchmarks start runs named otherwise); a date is the
// Schedule's name for a day's run, so passing one re-runs that day.
const RUN_ID = [
  '--run-id <id>',
  "the run's id, which also names its lists' version: letters, digits and dashes (default: today's date, YYYY-MM-DD in UTC, as the Schedule names its runs)",
  runId,
] as const;
const WAIT = ['--wait', 'wait for the workflow and print its result'] as const;
const JSON_REPORT = [
  '--json',
  'with --wait: print the report as JSON on stdout instead of formatted (the "Started" line then goes to stderr)',
] as const;

export function register(program: Command): void {
  const temporal = program
    .command('temporal')
    .description('Start and schedule the batch on a Temporal deployment.');
  temporal.addHelpText('after', TEMPORAL_ENVIRONMENT);
  const run = (action: TemporalAction) =>
    async function (options: TemporalCommandOptions) {
      const { temporalCommand } = await import('../temporal.js');
      await temporalCommand(action, options);
    };

  const schedule: [string, string] = [
    'osusume temporal schedule',
    'once per environment, and after a schedule change',
  ];
  const today: [string, string] = [
    'osusume temporal run-now --wait',
    "today's run, then its report",
  ];
  const retry: [string, string] = [
    'osusume temporal run-tenant --tenant acme --run-id 2026-11-22',
    'retry one tenant',
  ];
  examples(
    temporal
      .command('schedule')
      .description('Create or update the nightly Schedule (temporal.schedule in the config).')
      .action(run('schedule')),
    [schedule],
  );
  examples(
    temporal
      .command('run-now')
      .description('Start the batch for every tenant now.')
      .option(...RUN_ID)
      .option(...WAIT)
      .option(...JSON_REPORT)
      .action(run('run-now')),
    [
      today,
      ['osusume temporal run-now --wait --json', "today's run, then its report as JSON"],
      ['osusume temporal run-now --run-id 2026-11-22', 're-run a date: failed tenants run again'],
    ],
  );
  examples(
    temporal
      .command('run-tenant')
      .description("Run one tenant (again) in a run: today's, or the one --run-id names.")
      .requiredOption('--tenant <id>', 'the tenant', tenantId)
      .option(...RUN_ID)
      .option(...WAIT)
      .option(...JSON_REPORT)
      .action(run('run-tenant')),
    [
      retry,
      [
        'osusume temporal run-tenant --tenant acme --wait --json',
        "today's run of one tenant, then its report as JSON",
      ],
    ],
  );
  examples(
    temporal
      .command('purge-tenant')
      .description("Delete a tenant's lists from serving now.")
      .requiredOption('--tenant <id>', 'the tenant', tenantId)
      .option(...WAIT)
      .action(run('purge-tenant')),
    [['osusume temporal purge-tenant --tenant acme', 'purge without waiting for the grace period']],
  );
  examples(temporal, [schedule, today, retry]);
}
