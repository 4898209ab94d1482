/**
 * Option parsers and help helpers shared by the command definitions in this folder. A parser
 * throws commander's InvalidArgumentError, so a bad value stops the command before it opens
 * anything, with a message naming the option and the accepted values.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { checkKeyId } from '../../api/auth.js';
import { errorMessage } from '../../core/errors.js';
import { parseTenantId } from '../../core/ids.js';
import { checkVersion } from '../../core/store/types.js';

/** A whole number from `min` to `max`: `--limit abc` or `--limit 0` is an error, not a default. */
export function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** An option parser from one of the project's own checks (which throw an OsusumeError). */
function checked<T>(check: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return check(value);
    } catch (error) {
      throw new InvalidArgumentError(errorMessage(error));
    }
  };
}

/** A tenant id, checked as the warehouse and the API check it. */
export const tenantId = checked(parseTenantId);

/** A run id (also the version its lists are stored under): letters, digits and dashes. */
export const runId = checked(checkVersion);

/** An API key's id, checked as the key file checks it. */
export const keyId = checked(checkKeyId);

/** A repeatable tenant id option (`--tenant a --tenant b`). */
export function tenantIds(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), tenantId(value)];
}

/** A comma-separated list of names the command checks itself (e.g. against sets it builds). */
export function commaSeparated(value: string): string[] {
  const entries = value.split(',').map((v) => v.trim());
  if (entries.some((e) => e === ''))
    throw new InvalidArgumentError('expected names separated by commas, none empty.');
  return entries;
}

/** A comma-separated list whose every entry is one of `choices`, each once. */
export function listOf(choices: readonly string[]): (value: string) => string[] {
  return (value) => {
    const entries = value.split(',').map((v) => v.trim());
    const unknown = entries.filter((e) => !choices.includes(e));
    if (unknown.length > 0 || entries.length === 0)
      throw new InvalidArgumentError(
        `unknown ${unknown.map((u) => JSON.stringify(u)).join(', ')}: choose from ${choices.join(', ')}.`,
      );
    // A name listed twice would be computed twice under one name (the batch refuses that).
    const repeated = entries.find((e, i) => entries.indexOf(e) !== i);
    if (repeated !== undefined)
      throw new InvalidArgumentError(
        `${JSON.stringify(repeated)} is listed twice: name each once.`,
      );
    return entries;
  };
}

/**
 * The help text of the commands that connect to Temporal: what the environment sets over temporal.*
 * of the configuration (core/config.ts applyEnv), the task queue included, which `temporal
 * schedule` and `run-now` must share with the workers.
 */
export const TEMPORAL_ENVIRONMENT =
  '\nConnection settings come from the environment, over temporal.* of the configuration:\nTEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE,\nTEMPORAL_TLS_CERT + TEMPORAL_TLS_KEY or TEMPORAL_API_KEY.';

/**
 * Commander gives a value option the next word whatever it is, so an option left without its
 * value took the next option as it: `batch --skipped --list` ran every tenant and wrote the
 * skipped rows to a file named "--list", instead of listing the tenants. A value that is an
 * option of the same command is refused before the action runs, as a missing value.
 */
export function refuseOptionsAsValues(program: Command): void {
  program.hook('preAction', (_program, command) => {
    const flags = new Set(['-h', '--help']);
    for (const option of command.options)
      for (const flag of [option.long, option.short]) if (flag) flags.add(flag);
    for (const option of command.options) {
      const value: unknown = command.getOptionValue(option.attributeName());
      const taken = (Array.isArray(value) ? value : [value]).find(
        (v) => typeof v === 'string' && flags.has(v),
      );
      if (taken !== undefined)
        command.error(
          `error: option '${option.flags}' argument missing: '${taken}' is an option, not its value`,
          { code: 'commander.optionMissingArgument' },
        );
    }
  });
}

/** Appends an "Examples:" section to a command's --help; each entry is [command line, what it does]. */
export function examples(command: Command, lines: [string, string][]): Command {
  const width = Math.max(...lines.map(([cmd]) => cmd.length));
  return command.addHelpText(
    'after',
    `\nExamples:\n${lines.map(([cmd, what]) => `  $ ${cmd.padEnd(width)}  # ${what}`).join('\n')}`,
  );
}
