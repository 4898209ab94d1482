import type { Command } from 'commander';
import { isHelpCommand } from './help.js';
import { examples } from './options.js';

/**
 * Every command path ('' for the program itself) with the words that may follow it. `help` has
 * no path of its own: after it, the words are those of the commands it names (`help temporal r`).
 */
function completions(command: Command, path: string[] = []): [string, string[]][] {
  const words = [
    ...command.commands.map((c) => c.name()),
    ...command.options.flatMap((o) => [o.long ?? o.short ?? '']).filter(Boolean),
    '--help',
  ];
  return [
    [path.join(' '), words],
    ...command.commands
      .filter((c) => !isHelpCommand(c))
      .flatMap((c) => completions(c, [...path, c.name()])),
  ];
}

/**
 * A bash (and zsh, through bashcompinit) completion script for `osusume`: commander offers
 * none, so it is generated from the command tree, and stays current with it.
 */
function completionScript(program: Command): string {
  const table = completions(program);
  const cases = table.map(([path, words]) => `    '${path}') words='${words.join(' ')}' ;;`);
  return `# osusume completion: source <(osusume completion)   (zsh: autoload bashcompinit && bashcompinit first)
_osusume() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path='' word words i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "\${path:+$path }$word" in
      ${table
        .map(([path]) => path)
        .filter(Boolean)
        .map((p) => `'${p}'`)
        .join('|')}) path="\${path:+$path }$word" ;;
    esac
  done
  case "$path" in
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _osusume osusume
`;
}

export function register(program: Command): void {
  const command = program
    .command('completion')
    .description('Print a bash/zsh completion script for osusume.')
    .action(() => {
      process.stdout.write(completionScript(program));
    });
  examples(command, [
    ['source <(osusume completion)', 'in this shell (add it to ~/.bashrc to keep it)'],
  ]);
}
