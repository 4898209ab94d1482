/**
 * The Temporal dev server as the demo starts it (scripts/temporal-dev-server.ts), in a process of
 * its own: the Temporal CLI it runs inherits that process's stdout, which is command output.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Starts a dev server with its UI, as the demo does, says so on stdout, and stops it. The CLI
 * prints its banner once its UI serves, after the SDK has returned: the script waits for the UI,
 * then a second more, so that a banner would be in its output.
 */
const START_AND_STOP = `
import { setTimeout as sleep } from 'node:timers/promises';
import { startDevServer } from './scripts/temporal-dev-server.ts';
const server = await startDevServer({ ui: true });
console.log('started');
for (let attempt = 0; attempt < 100; attempt++) {
  if (await fetch(server.uiUrl).then(() => true, () => false)) break;
  await sleep(100);
}
await sleep(1000);
await server.teardown();
`;

function run(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', START_AND_STOP],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

describe('the Temporal dev server', () => {
  it("keeps the Temporal CLI's banner out of stdout", async (ctx) => {
    const { code, stdout, stderr } = await run();
    if (code !== 0 && stderr.includes('No Temporal dev server could be started') && !process.env.CI)
      ctx.skip(`no Temporal CLI (npm run setup builds one): ${stderr.trim()}`);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // Before, the CLI printed "CLI <version> (Server ..., UI ...)", "Server:", "UI:", "Metrics:".
    expect(stdout).toBe('started\n');
  });
});
