import type { Command } from 'commander';
import { examples } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('reset')
    .description(
      'Delete the local state (warehouse, served lists, run artifacts, API logs) after confirmation.',
    )
    .option('--yes', 'do not ask (scripts)')
    .option('--keys', 'also delete the API key file: every key issued stops working')
    .action(async (options) => {
      const { resetCommand } = await import('../reset.js');
      await resetCommand(options);
    });
  examples(command, [
    ['osusume reset', 'lists what it deletes, then asks'],
    ['osusume reset --yes && osusume demo', 'start over'],
  ]);
}
