import type { Command } from 'commander';
import { examples } from './options.js';

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
  command.addHelpText(
    'after',
    '\nConnection settings come from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,\nTEMPORAL_TASK_QUEUE, TEMPORAL_TLS_CERT + TEMPORAL_TLS_KEY or TEMPORAL_API_KEY.',
  );
  examples(command, [
    ['TEMPORAL_ADDRESS=localhost:7233 osusume worker', 'against a local Temporal server'],
  ]);
}
