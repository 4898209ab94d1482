import { createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { missingStore } from '../core/store/index.js';
import { missingWarehouse } from '../core/warehouse/index.js';

/**
 * A file of the checkout (`demo/posts.jsonl.gz`), found wherever the command was started:
 * `npx osusume` runs in any folder, and its working folder holds the user's state, not the demo's.
 */
export function checkoutFile(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/**
 * Why `file` could not be opened, naming it. Node's message ("ENOENT: no such file or directory,
 * open 'x'") does not say whether the file or its folder is missing, and EISDIR names nothing.
 */
export function fileProblem(error: unknown, file: string): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return existsSync(path.dirname(file))
        ? `${file} does not exist`
        : `the folder ${path.dirname(file)} does not exist`;
    case 'EISDIR':
      return `${file} is a folder`;
    case 'ENOTDIR':
      return `a part of the path ${file} is not a folder`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied for ${file}`;
    default:
      return errorMessage(error);
  }
}

/**
 * The folder an option names (e.g. --out DIR), which the command creates if missing: a path that
 * cannot be one (it, or a folder above it, is a file) stops the command before it writes anything,
 * with the path named, not with Node's "ENOTDIR: ... mkdir" from deep inside it.
 */
export function outputFolder(dir: string, option: string): string {
  let existing = dir;
  while (!existsSync(existing)) existing = path.dirname(existing);
  if (!statSync(existing).isDirectory())
    throw new ConfigError(
      `Cannot create the ${option} folder ${dir}: ${existing} is a file. Pass ${option} a folder you can write to.`,
    );
  return dir;
}

/** A file a command writes as it goes (e.g. --skipped FILE). */
export interface OutputFile {
  write(text: string): void;
  /** Flushes and closes it; throws if a write failed (a full disk), since the file is then cut short. */
  close(): Promise<void>;
}

/**
 * Opens the file an option names, before the command does anything: a path it cannot write must
 * stop the command with the path named, not after the work (or as an unhandled stream error).
 */
export async function openOutputFile(file: string, option: string): Promise<OutputFile> {
  const stream = createWriteStream(file);
  // A failed write is reported by close(); without a listener it would end the process.
  stream.on('error', () => {});
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new ConfigError(
      `Cannot write the ${option} file: ${fileProblem(error, file)}. Pass ${option} a file in a folder you can write to (nothing was changed).`,
    );
  }
  return {
    write: (text) => stream.write(text),
    close: async () => {
      stream.end();
      try {
        await finished(stream);
      } catch (error) {
        throw new ConfigError(
          `Writing the ${option} file ${file} failed, so it is incomplete: ${errorMessage(error)}. Free space or pass another file.`,
        );
      }
    },
  };
}

/**
 * For a command that reads what the batch left (runs, rollback): the local warehouse and store
 * exist. Opening them would create empty ones at a mistyped path, which read as "nothing there".
 */
export function requireLocalState(config: Pick<Config, 'warehouse' | 'store'>): void {
  const missing = [missingWarehouse(config.warehouse), missingStore(config.store)].filter(
    (m) => m !== null,
  );
  if (missing.length > 0) throw new ConfigError(missing.join(' '));
}
