import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What `npx osusume` runs. */
export const BIN = path.join(ROOT, 'bin/osusume.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The installed command as a user runs it, in `cwd`, with the default configuration there unless
 * `env` names one (a developer's OSUSUME_CONFIG must not leak into a test).
 */
export function runOsusume(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: options.cwd,
        env: {
          ...process.env,
          OSUSUME_CONFIG: undefined,
          OSUSUME_CONFIG_YAML: undefined,
          ...options.env,
        },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}
