/**
 * Checks the experiments file and keeps its JSON Schema current.
 *   npm run validate [-- FILE]            exits 1 with one line per problem, naming the entry
 *   npm run validate -- --write-schema    regenerates experiments.schema.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import { experimentsJsonSchema, isRunning, parseExperiments } from '../core/experiments.js';

export const SCHEMA_FILE = new URL('../experiments.schema.json', import.meta.url);

export function schemaText(): string {
  return JSON.stringify(experimentsJsonSchema(), null, 2) + '\n';
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'write-schema': { type: 'boolean', default: false } },
  });
  if (values['write-schema']) {
    writeFileSync(SCHEMA_FILE, schemaText());
    console.log(`wrote ${SCHEMA_FILE.pathname}`);
    return;
  }
  const file = positionals[0] ?? loadConfig().experimentsFile;
  const experiments = parseExperiments(readFileSync(file, 'utf8'), file);
  const running = experiments.experiments.filter((e) => isRunning(e));
  console.log(
    `${file}: valid. Default algorithm ${experiments.defaultAlgorithm}; ${experiments.experiments.length} experiment(s), ${running.length} running now.`,
  );
}

try {
  main();
} catch (error) {
  console.error(errorMessage(error));
  process.exit(1);
}
