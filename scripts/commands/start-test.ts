import type { Command } from 'commander';
import { examples, runId, tenantIds } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('start-test')
    .description(
      'Start the tests of the experiments file now: compute only the lists it newly needs (for the tenants named, or every tenant an experiment is not ready for) in a new version carrying the active lists over, and activate it.',
    )
    .option(
      '--tenant <id>',
      'a tenant (repeatable; default, in process only: every tenant not ready)',
      tenantIds,
    )
    .option('--version <id>', 'the new version id (default: now, like the batch)', runId)
    .option('--temporal', 'run it as Temporal workflows (startTestWorkflow) instead of in process')
    .option('--wait', 'with --temporal: wait for the workflows and print what they did')
    .action(async (options) => {
      const { startTestCommand } = await import('../start-test.js');
      await startTestCommand(options);
    });
  examples(command, [
    ['osusume start-test', 'every tenant an experiment is not ready for'],
    ['osusume start-test --tenant acme --temporal --wait', 'on Temporal, for one tenant'],
  ]);
}
