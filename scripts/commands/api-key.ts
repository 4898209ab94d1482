import type { Command } from 'commander';
import { examples, tenantIds } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('api-key')
    .description('Create an API key scoped to tenants; prints it once and stores only its hash.')
    .requiredOption('--id <name>', 'a name for the key (who uses it)')
    .option('--tenant <id>', 'a tenant the key may read (repeatable)', tenantIds)
    .option('--all-tenants', 'the key may read every tenant')
    .action(async (options) => {
      const { apiKeyCommand } = await import('../api-key.js');
      apiKeyCommand(options);
    });
  examples(command, [
    ['osusume api-key --id backend --tenant acme --tenant beta', 'a key for two tenants'],
    ['osusume api-key --id admin --all-tenants', 'a key for every tenant'],
  ]);
}
