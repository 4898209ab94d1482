/**
 * Checks the experiments file and keeps its JSON Schema current.
 *   osusume validate [FILE]            exits 1 with one line per problem, naming the entry
 *   osusume validate --write-schema    regenerates experiments.schema.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../core/config.js';
import { experimentsJsonSchema, isRunning, parseExperiments } from '../core/experiments.js';

export const SCHEMA_FILE = new URL('../experiments.schema.json', import.meta.url);

export function schemaText(): string {
  return JSON.stringify(experimentsJsonSchema(), null, 2) + '\n';
}

export interface ValidateCommandOptions {
  file?: string;
  writeSchema?: boolean;
}

export function validateCommand(options: ValidateCommandOptions): void {
  if (options.writeSchema) {
    writeFileSync(SCHEMA_FILE, schemaText());
    console.log(`wrote ${SCHEMA_FILE.pathname}`);
    return;
  }
  const file = options.file ?? loadConfig().experimentsFile;
  const experiments = parseExperiments(readFileSync(file, 'utf8'), file);
  const running = experiments.experiments.filter((e) => isRunning(e));
  console.log(
    `${file}: valid. Default algorithm ${experiments.defaultAlgorithm}; ${experiments.experiments.length} experiment(s), ${running.length} running now.`,
  );
}
