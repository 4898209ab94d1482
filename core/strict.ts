import { z } from 'zod';
import { errorMessage } from './errors.js';

/**
 * Objects of the hand-written files (experiments.yaml, osusume.config.yaml) reject unknown keys:
 * a misspelt `tenant:` silently meaning "every tenant" is worse than an error. The error names
 * the key and the nearest valid one, and the JSON Schema says `additionalProperties: false`.
 */

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[y.length]!;
}

/**
 * The valid key closest to `key` (ties: the first in `valid`), if it is at most `maxDistance`
 * edits away.
 */
export function nearestKey(
  key: string,
  valid: readonly string[],
  maxDistance = Infinity,
): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of valid) {
    const d = distance(key, candidate);
    if (d <= maxDistance && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function unknownKeysMessage(keys: readonly string[], valid: readonly string[]): string {
  return keys
    .map((key) => {
      const near = nearestKey(key, valid);
      return `unknown key "${key}"${near ? ` (did you mean "${near}"?)` : ''}`;
    })
    .join('; ');
}

/** z.strictObject whose unknown-key error names the nearest valid key. */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const valid = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? unknownKeysMessage(issue.keys, valid) : undefined,
  });
}

/**
 * A YAML syntax error of a hand-written file in one line ("Map keys must be unique at line 2,
 * column 1"): the yaml library follows it with a code frame over several lines, which split the
 * commands' one-line errors (and the API's reload log line).
 */
export function yamlSyntaxError(error: unknown): string {
  return errorMessage(error).split('\n')[0]!.replace(/:$/, '');
}
