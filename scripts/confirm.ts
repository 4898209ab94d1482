import { createInterface } from 'node:readline/promises';
import { ConfigError } from '../core/errors.js';

/**
 * Asks before a command destroys data: true when the user types "yes". Without a terminal it
 * throws `refusal` (a message naming the option that confirms ahead, e.g. --yes).
 */
export async function confirm(question: string, refusal: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new ConfigError(refusal);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(`${question} Type "yes" to go on: `)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}
