import type { Command } from 'commander';

/** Marks the help commands added here, which the completion script does not list as paths. */
const HELP_COMMANDS = new WeakSet<Command>();

export function isHelpCommand(command: Command): boolean {
  return HELP_COMMANDS.has(command);
}

/**
 * `help [command...]` for the program and every group, in place of commander's built-in help
 * command, which commander dispatches itself (a custom one's action never runs): for a name it
 * does not know it printed the whole parent help (`osusume help rnus`), and it read only the
 * first name (`osusume help temporal run-now` showed temporal's help).
 */
export function addHelpCommands(command: Command): void {
  if (command.commands.length === 0) return;
  for (const sub of command.commands) addHelpCommands(sub);
  command.helpCommand(false);
  const help = command
    .command('help')
    .argument('[name...]', 'the command (and subcommand) to show the help of')
    .description('display help for command')
    .action((names: string[]) => showHelp(command, names));
  HELP_COMMANDS.add(help);
}

function subcommand(command: Command, name: string): Command | undefined {
  return command.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

/**
 * The arguments without their help flags when they name a command that does not exist: commander
 * answers `--help` before it looks at the name, so `osusume rnus --help` printed the whole help
 * where `osusume rnus` says that rnus is unknown and suggests runs. Groups take no options with
 * values, so the first word that is not an option names the next command.
 */
export function dropHelpOfUnknownCommand(program: Command, args: string[]): string[] {
  let command = program;
  for (const arg of args) {
    if (command.commands.length === 0 || arg === '--') return args;
    if (arg.startsWith('-')) continue;
    const sub = subcommand(command, arg);
    if (!sub) return args.filter((a) => a !== '-h' && a !== '--help');
    command = sub;
  }
  return args;
}

/** The help of the command `names` lead to from `command`; an unknown name fails as a typo does. */
async function showHelp(command: Command, names: string[]): Promise<void> {
  const [name, ...rest] = names;
  if (name === undefined) command.help();
  const sub = subcommand(command, name);
  if (sub) return showHelp(sub, rest);
  if (command.commands.length === 0)
    command.error(`error: '${name}' is not a command: ${command.name()} has no subcommands`, {
      code: 'commander.unknownCommand',
    });
  // An option is never run from here (`help -- --version`), only named as what it is not.
  if (name.startsWith('-'))
    command.error(`error: '${name}' is not a command`, { code: 'commander.unknownCommand' });
  // Parsed as the command line it names, the name gets commander's own unknown-command error,
  // with its suggestion ("did you mean runs?"): the same line as `osusume rnus`.
  await command.parseAsync([name], { from: 'user' });
}
