import type { Command } from 'commander';
import { examples } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('results')
    .description(
      'Online test results from the API logs: per variant users, exposures, clicks, CTR with a per-user 95% CI, lift against control with CI and p-value, a sample-ratio check under each split the logs name, and interleaving wins/ties/losses with a sign test.',
    )
    .option('--experiment <id>', 'only this experiment')
    .option('--from <date>', 'first day, YYYY-MM-DD (UTC)')
    .option('--to <date>', 'last day, YYYY-MM-DD (UTC), inclusive')
    .option(
      '--sequential',
      'intervals and p-values that stay valid however often you read them (for reading a running test daily)',
    )
    .option('--json', 'the report as JSON')
    .action(async (options) => {
      const { resultsCommand } = await import('../results.js');
      await resultsCommand(options);
    });
  examples(command, [
    ['osusume results', 'every experiment in the logs'],
    [
      'osusume results --experiment footer-embedding-vs-popular --from 2026-11-01 --json',
      'one experiment since a day, as JSON',
    ],
    ['osusume results --sequential', 'a running test, read every day'],
  ]);
}
