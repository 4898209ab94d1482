/**
 * Checks the experiments file and keeps the published JSON Schemas current.
 *   osusume validate [FILE]            exits 1 with one line per problem, naming the entry;
 *                                      warns, per experiment, which tenants are not ready
 *   osusume validate --write-schema    regenerates experiments.schema.json and osusume.config.schema.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { configJsonSchema, loadConfig, type Config } from '../core/config.js';
import { ConfigError, errorMessage, plural } from '../core/errors.js';
import {
  experimentsJsonSchema,
  experimentsReadiness,
  isRunning,
  parseExperiments,
  readinessWarnings,
  type ExperimentsFile,
} from '../core/experiments.js';
import { missingStore, openStore } from '../core/store/index.js';
import { fileProblem } from './files.js';

export const SCHEMA_FILE = new URL('../experiments.schema.json', import.meta.url);
export const CONFIG_SCHEMA_FILE = new URL('../osusume.config.schema.json', import.meta.url);

export function schemaText(): string {
  return JSON.stringify(experimentsJsonSchema(), null, 2) + '\n';
}

export function configSchemaText(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + '\n';
}

/**
 * Warnings for experiments whose tenants' active versions lack a variant's lists. A store that
 * does not exist yet (a fresh checkout) or does not answer is reported, not an error: the file
 * itself is valid either way.
 */
export async function readinessLines(config: Config, file: ExperimentsFile): Promise<string[]> {
  const missing = missingStore(config.store);
  if (missing) return [`readiness not checked: ${missing}`];
  const store = openStore(config.store);
  try {
    return readinessWarnings(await experimentsReadiness(file, store)).map((l) => `warning: ${l}`);
  } catch (error) {
    return [`readiness not checked: the store did not answer: ${errorMessage(error)}`];
  } finally {
    await store.close();
  }
}

export interface ValidateCommandOptions {
  file?: string;
  writeSchema?: boolean;
}

/** The text of the experiments file, or an error naming it and what to pass instead. */
function readExperimentsFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `Cannot read the experiments file: ${fileProblem(error, file)}. Pass the path of an experiments file (YAML), or set experimentsFile in the configuration (osusume.config.yaml).`,
    );
  }
}

export async function validateCommand(options: ValidateCommandOptions): Promise<void> {
  if (options.writeSchema) {
    if (options.file)
      throw new ConfigError(
        `--write-schema writes the repository's experiments.schema.json and osusume.config.schema.json and takes no FILE: run it without ${options.file}, or validate ${options.file} without --write-schema.`,
      );
    writeFileSync(SCHEMA_FILE, schemaText());
    writeFileSync(CONFIG_SCHEMA_FILE, configSchemaText());
    console.log(`wrote ${SCHEMA_FILE.pathname} and ${CONFIG_SCHEMA_FILE.pathname}`);
    return;
  }
  const config = loadConfig();
  const file = options.file ?? config.experimentsFile;
  const experiments = parseExperiments(readExperimentsFile(file), file);
  const running = experiments.experiments.filter((e) => isRunning(e));
  console.log(
    `${file}: valid. Default algorithm ${experiments.defaultAlgorithm}; ${plural(experiments.experiments.length, 'experiment')}, ${running.length} running now.`,
  );
  for (const line of await readinessLines(config, experiments)) console.log(line);
}
