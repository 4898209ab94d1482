/**
 * osusume's command line: `npx osusume <command> [options]`, `npx osusume <command> --help`.
 * The npm scripts are aliases (`npm run batch -- --tenant x` = `osusume batch --tenant x`).
 *
 * Adding a command (every command follows this pattern):
 * 1. Implement it as an exported function with typed options in its own module under scripts/
 *    (e.g. `export async function resultsCommand(options: ResultsOptions)` in scripts/results.ts).
 *    It parses no argv; it prints its output, and fails by throwing an OsusumeError
 *    (core/errors.ts) whose message names the thing (file, address, key, id) and says what to
 *    do, or by setting process.exitCode. This file prints the message as `osusume <command>: ...`,
 *    as it does commander's own errors for a bad command line (see oneLineParseErrors).
 * 2. Describe it in scripts/commands/<name>.ts, exporting `register(program: Command)`:
 *    `.description(...)`, options whose values are checked by a parser from
 *    scripts/commands/options.ts (integer(min, max), tenantId, tenantIds, runId, listOf(...); add
 *    a parser there rather than checking in the action), `examples(command, [[line, what]])`,
 *    and an action that imports the implementation lazily (`await import('../results.js')`), so
 *    that `--help` and bad options answer at once and never open a connection. Sub-subcommands
 *    (`osusume temporal run-now`) are `.command()`s of the parent: see commands/temporal.ts.
 * 3. Add `register` to COMMANDS below (the order of `osusume --help`), and an npm script alias
 *    in package.json: `"results": "tsx scripts/cli.ts results"`.
 * 4. In test/cli.test.ts, check its --help and one rejected option with a real child process.
 */
import { Command } from 'commander';
import { errorMessage } from '../core/errors.js';
import { codeVersion } from '../core/version.js';
import { register as api } from './commands/api.js';
import { register as apiKey } from './commands/api-key.js';
import { register as batch } from './commands/batch.js';
import { register as bench } from './commands/bench.js';
import { register as completion } from './commands/completion.js';
import { register as dataset } from './commands/dataset.js';
import { register as demo } from './commands/demo.js';
import { register as evaluate } from './commands/evaluate.js';
import { addHelpCommands, dropHelpOfUnknownCommand } from './commands/help.js';
import { refuseOptionsAsValues } from './commands/options.js';
import { register as faultInject } from './commands/fault-inject.js';
import { register as load } from './commands/load.js';
import { register as results } from './commands/results.js';
import { register as rollback } from './commands/rollback.js';
import { register as reset } from './commands/reset.js';
import { register as runs } from './commands/runs.js';
import { register as startTest } from './commands/start-test.js';
import { register as temporal } from './commands/temporal.js';
import { register as validate } from './commands/validate.js';
import { register as worker } from './commands/worker.js';

const COMMANDS: ((program: Command) => void)[] = [
  demo,
  load,
  batch,
  runs,
  rollback,
  api,
  apiKey,
  validate,
  startTest,
  results,
  evaluate,
  temporal,
  worker,
  bench,
  faultInject,
  dataset,
  reset,
  completion,
];

/** The command line of the running command, for error messages ("osusume temporal run-now"). */
function commandPath(command: Command | undefined): string {
  const names: string[] = [];
  for (let c = command; c; c = c.parent ?? undefined) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Commander's own errors (unknown option or command, missing option, bad value, extra argument)
 * in the form of every other error: one line naming the command, and where its usage is.
 * Commander writes them as `error: ...` plus a help hint; its exit code (1) is kept. Each command
 * gets its own writer because only the command that failed to parse knows its path.
 */
function oneLineParseErrors(command: Command): void {
  const path = commandPath(command);
  command.configureOutput({
    outputError: (text, write) => {
      const message = text
        .trim()
        .replace(/^error: /, '')
        // "\n(Did you mean runs?)" stays, on the same line.
        .replace(/\n\(Did you mean (.*)\)$/, ': did you mean $1')
        .replace(/\.$/, '');
      write(`${path}: ${message} (see ${path} --help)\n`);
    },
  });
  for (const sub of command.commands) oneLineParseErrors(sub);
}

export function createProgram(): Command {
  const program = new Command('osusume')
    .description(
      'Multi-tenant batch recommendations: nightly related-post lists, served by an API.',
    )
    .version(codeVersion(), '-V, --version', 'print the code version (as run records name it)')
    // Program options only before the command: `start-test --version <id>` is start-test's own.
    .enablePositionalOptions()
    .configureHelp({ sortOptions: false, showGlobalOptions: false });
  for (const register of COMMANDS) register(program);
  addHelpCommands(program);
  refuseOptionsAsValues(program);
  oneLineParseErrors(program);
  program.addHelpText(
    'after',
    '\nEvery command reads osusume.config.yaml (or OSUSUME_CONFIG); see the README.\nRun `osusume <command> --help` for its options and examples.',
  );
  return program;
}

/**
 * `osusume batch --list | head -3`: once the reader has gone, a write fails with EPIPE, which Node
 * raised as an unhandled error, a stack trace and exit code 1, in the middle of the command
 * (`rollback --all` between two tenants). Output nobody reads is dropped; the command finishes.
 */
function ignoreClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

async function main(): Promise<void> {
  ignoreClosedStdout();
  const program = createProgram();
  let running: Command | undefined;
  program.hook('preAction', (_program, actionCommand) => {
    running = actionCommand;
  });
  try {
    await program.parseAsync(dropHelpOfUnknownCommand(program, process.argv.slice(2)), {
      from: 'user',
    });
  } catch (error) {
    console.error(`${commandPath(running ?? program)}: ${errorMessage(error)}`);
    process.exit(1);
  }
}

await main();
