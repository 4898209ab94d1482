import { Option, type Command } from 'commander';
import { examples, keyId, tenantIds } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('api-key')
    .description('Create, list and revoke API keys; the key file holds only their hashes.');
  const create = command
    .command('create', { isDefault: true })
    .description('Create an API key scoped to tenants; prints it once and stores only its hash.')
    .requiredOption('--id <name>', 'a name for the key (who uses it)', keyId)
    .option('--tenant <id>', 'a tenant the key may read (repeatable)', tenantIds)
    .addOption(
      new Option('--all-tenants', 'the key may read every tenant (instead of --tenant)').conflicts(
        'tenant',
      ),
    )
    .action(async (options) => {
      const { apiKeyCommand } = await import('../api-key.js');
      apiKeyCommand(options);
    });
  command
    .command('list')
    .description('List the keys (ids and tenants; the keys themselves are not stored).')
    .option('--json', 'one JSON array')
    .action(async (options) => {
      const { apiKeyListCommand } = await import('../api-key.js');
      apiKeyListCommand(options);
    });
  command
    .command('revoke')
    .description('Remove a key; a running API refuses it within api.reloadSeconds.')
    .requiredOption('--id <name>', 'the key to remove')
    .action(async (options) => {
      const { apiKeyRevokeCommand } = await import('../api-key.js');
      apiKeyRevokeCommand(options);
    });
  const usage: [string, string][] = [
    ['osusume api-key --id backend --tenant acme --tenant beta', 'a key for two tenants'],
    ['osusume api-key --id admin --all-tenants', 'a key for every tenant (and /metrics)'],
    ['osusume api-key list', 'the keys and their tenants'],
    ['osusume api-key revoke --id backend', 'remove a key'],
  ];
  examples(command, usage);
  examples(create, usage.slice(0, 2));
}
