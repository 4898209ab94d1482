import type { Command } from 'commander';
import { examples, runId, tenantIds } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('batch')
    .description(
      'Run every tenant of the warehouse (or the ones named) through the pipeline, in process.',
    )
    .option('--tenant <id>', 'only this tenant (repeatable)', tenantIds)
    .option(
      '--run-id <id>',
      'a fixed run id: re-running it is idempotent (default: now, UTC)',
      runId,
    )
    .option('--list', 'list the tenants of the warehouse and exit')
    .option(
      '--skipped <file>',
      'list every row left out (tenant, post, reason) in FILE as JSON lines',
    )
    .action(async (options) => {
      const { batchCommand } = await import('../batch.js');
      await batchCommand(options);
    });
  examples(command, [
    ['osusume batch', 'every tenant'],
    ['osusume batch --tenant ja-man2 --tenant en-man2', 'two tenants'],
    ['osusume batch --list', 'the tenants and their post counts'],
    ['osusume batch --skipped skipped.jsonl', 'and list each row left out, with its reason'],
  ]);
}
