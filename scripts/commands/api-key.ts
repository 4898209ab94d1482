import { Option, type Command } from 'commander';
import { nearestKey } from '../../core/strict.js';
import { isHelpCommand } from './help.js';
import { examples, keyId, tenantIds } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('api-key')
    .description('Create, list and revoke API keys; the key file holds only their hashes.');
  const create = command
    .command('create', { isDefault: true })
    .description(
      'Create an API key scoped to tenants; prints it once and stores only its hash. The default: `create` may be left out.',
    )
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
  const list = command
    .command('list')
    .description('List the keys (ids and tenants; the keys themselves are not stored).')
    .option('--json', 'one JSON array')
    .action(async (options) => {
      const { apiKeyListCommand } = await import('../api-key.js');
      apiKeyListCommand(options);
    });
  const revoke = command
    .command('revoke')
    .description('Remove a key; a running API refuses it within api.reloadSeconds.')
    .requiredOption('--id <name>', 'the key to remove')
    .action(async (options) => {
      const { apiKeyRevokeCommand } = await import('../api-key.js');
      apiKeyRevokeCommand(options);
    });
  // Commander's own "did you mean" is private, and never runs here: `create` is the default. A
  // suggestion is made only within half the word's length in edits, as a guess, not any name.
  const unknownSubcommand = (word: string): never => {
    const names = command.commands.filter((c) => !isHelpCommand(c)).map((c) => c.name());
    if (names.includes(word))
      return command.error(
        `'${word}' is a subcommand: name it first (osusume api-key ${word} --help lists its options)`,
      );
    const near = nearestKey(word, names, Math.max(1, Math.floor(word.length / 2)));
    return command.error(
      `unknown subcommand '${word}'${near ? ` (did you mean ${near}?)` : ''}: use ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`,
    );
  };
  // `create` is the default, so `osusume api-key --id x` creates a key; a mistyped subcommand
  // (`api-key lsit`) would reach create too and be refused for a missing --id, and a bare
  // `api-key` would be refused the same way. Both are stopped here, before create parses.
  command.hook('preSubcommand', (group, subcommand) => {
    if (subcommand !== create || group.args[0] === 'create') return;
    if (group.args.length === 0) group.help({ error: true });
    const [word] = group.args;
    if (!word!.startsWith('-')) unknownSubcommand(word!);
  });
  // A mistyped subcommand after create's options (`api-key --id x lsit`) is left over once they
  // are parsed: commander would call it one argument too many for create, which takes none.
  create.allowExcessArguments().hook('preAction', () => {
    if (create.args.length > 0) unknownSubcommand(create.args[0]!);
  });
  const forTwo: [string, string] = [
    'osusume api-key --id backend --tenant acme --tenant beta',
    'a key for two tenants',
  ];
  const forAll: [string, string] = [
    'osusume api-key --id admin --all-tenants',
    'a key for every tenant (and /metrics)',
  ];
  const listed: [string, string] = ['osusume api-key list', 'the keys and their tenants'];
  const revoked: [string, string] = ['osusume api-key revoke --id backend', 'remove a key'];
  examples(command, [forTwo, forAll, listed, revoked]);
  examples(create, [
    [
      'osusume api-key create --id backend --tenant acme',
      'a key for one tenant ("create" may be left out, as below)',
    ],
    forTwo,
    forAll,
  ]);
  examples(list, [listed, ['osusume api-key list --json', 'the same as one JSON array']]);
  examples(revoke, [revoked]);
}
