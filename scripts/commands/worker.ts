import type { Command } from 'commander';
import { examples, TEMPORAL_ENVIRONMENT } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('worker')
    .description(
      "Run a Temporal worker for osusume's workflows and activities (Ctrl-C lets running activities finish, up to 30 s).",
    )
    .action(async () => {
      const { workerCommand } = await import('../worker.js');
      await workerCommand();
    });
  command.addHelpText('after', TEMPORAL_ENVIRONMENT);
  examples(command, [
    ['TEMPORAL_ADDRESS=localhost:7233 osusume worker', 'against a local Temporal server'],
  ]);
}
