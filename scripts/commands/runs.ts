import type { Command } from 'commander';
import { examples, integer, tenantId } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('runs')
    .description(
      'List recorded tenant runs (parameters, versions, counts, durations), newest first.',
    )
    .option('--tenant <id>', 'only this tenant', tenantId)
    .option('--limit <n>', 'how many records (1-1000)', integer(1, 1000), 20)
    .option(
      '--json',
      'one JSON object per line, its "kind" saying what it is: "active" (a tenant\'s active version) or "run" (a run record)',
    )
    .action(async (options) => {
      const { runsCommand } = await import('../runs.js');
      await runsCommand(options);
    });
  examples(command, [
    ['osusume runs', 'the last 20 runs'],
    ['osusume runs --tenant ja-man2 --limit 5 --json', "one tenant's last 5, as JSON lines"],
  ]);
}
