import { Option, type Command } from 'commander';
import { examples, runId, tenantId } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('rollback')
    .description(
      "Re-activate a kept version of a tenant's lists (the previous one by default), atomically; the API serves it within api.reloadSeconds.",
    )
    .option('--tenant <id>', 'the tenant to roll back', tenantId)
    .option('--to <version>', 'the kept version to activate (default: the previous one)', runId)
    .addOption(
      new Option(
        '--all',
        'roll every tenant back to its previous version (all checked first)',
      ).conflicts('tenant'),
    )
    .action(async (options) => {
      const { rollbackCommand } = await import('../rollback.js');
      await rollbackCommand(options);
    });
  examples(command, [
    ['osusume rollback --tenant acme', 'acme back to its previous version'],
    ['osusume rollback --tenant acme --to 2026-11-22', 'a given kept version (see osusume runs)'],
    ['osusume rollback --all', 'every tenant back to its previous version'],
  ]);
}
