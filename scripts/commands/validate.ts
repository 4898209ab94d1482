import type { Command } from 'commander';
import { examples } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('validate')
    .description(
      'Check the experiments file (one line per problem, naming the entry), and warn per experiment which tenants are not ready.',
    )
    .argument('[file]', 'the experiments file (default: experimentsFile of the config)')
    .option(
      '--write-schema',
      'regenerate experiments.schema.json and osusume.config.schema.json instead',
    )
    .action(async (file: string | undefined, options) => {
      const { validateCommand } = await import('../validate.js');
      await validateCommand({ file, ...options });
    });
  examples(command, [
    ['osusume validate', 'the configured experiments.yaml'],
    ['osusume validate staging/experiments.yaml', 'another file'],
  ]);
}
