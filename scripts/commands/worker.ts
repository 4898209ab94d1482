import type { Command } from 'commander';
import { examples, TEMPORAL_ENVIRONMENT } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('worker')
    .description(
      "Run a Temporal worker for osusume's workflows and activities (Ctrl-C or SIGTERM lets running activities finish for temporal.shutdownGraceTime, 5s by default, then cancels them so that Temporal retries them on another worker).",
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
