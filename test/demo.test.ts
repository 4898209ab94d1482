/**
 * What the demo says about the experiments' readiness, on a real LMDB store and the real API:
 * tenants too small for the experiments are expected in the demo and get a sentence on stdout;
 * other tenants not ready are warnings, logged; the API it starts does not log them again.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer } from '../api/server.js';
import type { Config } from '../core/config.js';
import { openStore } from '../core/store/index.js';
import { reportReadiness, runBatchAnyhow } from '../scripts/demo.js';
import { runBatchOnTemporal } from '../scripts/orchestrate.js';
import { loadPosts, tempDir, testConfig, topicPosts } from './helpers/fixtures.js';
import { devServerOrSkip } from './helpers/temporal-server.js';

const tmp = tempDir();
let config: Config;

const EXPERIMENTS = `defaultAlgorithm: fielded
experiments:
  - id: footer-lexical
    surface: post-footer
    tenants: ['*']
    variants: [{ name: control, algorithm: fielded }, { name: lexical, algorithm: lexical }]
`;

beforeAll(async () => {
  config = testConfig(tmp.dir, {
    experimentsFile: 'experiments.yaml',
    api: { reloadSeconds: 0.1, logsDir: 'logs' },
  });
  writeFileSync(config.experimentsFile, EXPERIMENTS);
  // small: below pipeline.minPostsForEmbedding, popular lists only; big: no lexical lists.
  const store = openStore(config.store);
  await store.writeLists('big', 'v1', 'fielded', [
    { postId: 'p1', items: [{ postId: 'p2', score: 1 }] },
  ]);
  const actives: [string, string[]][] = [
    ['small', ['popular']],
    ['big', ['fielded', 'popular']],
  ];
  for (const [tenantId, algorithms] of actives) {
    await store.writePopular(tenantId, 'v1', [{ postId: 'p1', score: 1 }]);
    await store.activate(tenantId, { version: 'v1', activatedAt: '', algorithms, lists: 1 }, 2);
  }
  await store.close();
});
afterAll(() => tmp.cleanup());

/** What is printed on stdout (console.log) and logged (stderr) until `restore`. */
function capture() {
  const stdout: string[] = [];
  const logged: string[] = [];
  const out = vi.spyOn(console, 'log').mockImplementation((line: string) => void stdout.push(line));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    logged.push(String(chunk));
    return true;
  });
  return {
    stdout: () => stdout.join('\n'),
    /** The messages of the log lines whose severity is `severity`. */
    log: (severity: string) =>
      logged
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as { severity: string; message: string })
        .filter((l) => l.severity === severity)
        .map((l) => l.message),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

describe("the demo's readiness report", () => {
  it('names the small tenants in a sentence and logs the others as warnings', async () => {
    const output = capture();
    try {
      await reportReadiness(config);
    } finally {
      output.restore();
    }
    expect(output.stdout()).toBe(
      `\nNot in the experiments yet: small. A tenant below 5 posts (pipeline.minPostsForEmbedding) gets popular lists only from the batch, so the experiments in ${config.experimentsFile} enroll its users once it has that many.`,
    );
    const warnings = output.log('WARN');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^experiment "footer-lexical" is not ready for 1 tenant,.*: big \(active version v1 has no lexical lists\)/,
    );
    expect(warnings[0]).not.toContain('small');
  });

  it('the API started after it logs readiness when the experiments file changes, not at start', async () => {
    const output = capture();
    const server = await startServer(config, 0, { readinessReported: true });
    try {
      // The check at start would have logged by now (it reads two tenants' pointers).
      await new Promise((r) => setTimeout(r, 500));
      expect(output.log('WARN')).toEqual([]);
      writeFileSync(config.experimentsFile, `${EXPERIMENTS}# edited\n`);
      await expect
        .poll(() => output.log('WARN').join('\n'), { timeout: 5000 })
        .toMatch(/^experiment "footer-lexical" is not ready for 2 tenants/);
    } finally {
      await server.close();
      output.restore();
    }
  });
});

/** A port nothing listens on: the OS hands one out, and it is closed again at once. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The batch of tenant acme's 12 posts, run by `run` as the demo runs it, with what it printed. */
async function runAcme<T>(dir: string, run: (config: Config) => Promise<T>) {
  const local = testConfig(dir);
  await loadPosts(local, topicPosts('acme', 12));
  const output = capture();
  try {
    return { run: await run(local), stdout: output.stdout() };
  } finally {
    output.restore();
  }
}

describe('the demo on a dev server of its own', () => {
  it("takes another port for the Web UI when the one asked for is taken (a user's own dev server on 8233)", async () => {
    // Where no dev server can be started at all, this skips as the other Temporal tests do.
    const probe = await devServerOrSkip("the demo's own dev server");
    if (!probe) return;
    await probe.teardown();
    const dir = tempDir();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const busyPort = (taken.address() as { port: number }).port;
    try {
      const { run, stdout } = await runAcme(dir.dir, (config) =>
        runBatchOnTemporal(config, 'busy-ui-1', { env: {}, uiPort: busyPort }),
      );
      expect(run).toMatchObject({ report: { succeeded: 1, failedCount: 0 } });
      const ui = stdout.split('\n').find((line) => line.startsWith('Temporal UI: '));
      expect(ui).toMatch(/^Temporal UI: http:\/\/127\.0\.0\.1:\d+$/);
      expect(ui).not.toContain(`:${busyPort}`);
    } finally {
      taken.close();
      dir.cleanup();
    }
  }, 120_000);
});

describe('the demo with --keep-server', () => {
  it('gets the dev server back still running, so the whole tour prints before the wait', async () => {
    const dir = tempDir();
    try {
      const uiPort = await freePort();
      const { run } = await runAcme(dir.dir, (config) =>
        runBatchOnTemporal(config, 'keep-1', { keepServer: true, env: {}, uiPort }),
      );
      if ('unavailable' in run) {
        if (process.env.CI) throw new Error(run.unavailable);
        console.warn(`SKIPPED: the demo with --keep-server: ${run.unavailable}`);
        return;
      }
      // It used to wait for Ctrl+C in here, before the demo printed its report and lists.
      expect(run.report.failedCount).toBe(0);
      expect(run.stopServer).toBeDefined();
      try {
        expect((await fetch(run.workflowUrl!)).status).toBe(200);
      } finally {
        await run.stopServer!();
      }
      await expect(fetch(run.workflowUrl!)).rejects.toThrow();
    } finally {
      dir.cleanup();
    }
  }, 120_000);
});

describe('the demo without --keep-server', () => {
  it('prints no link to the dev server it has already stopped, and says how to keep it up', async () => {
    const probe = await devServerOrSkip("the demo's own dev server");
    if (!probe) return;
    await probe.teardown();
    const dir = tempDir();
    // The demo's own dev server, not one a developer's environment names.
    vi.stubEnv('TEMPORAL_ADDRESS', '');
    try {
      const { run, stdout } = await runAcme(dir.dir, (config) =>
        runBatchAnyhow(config, 'no-keep-1', false),
      );
      expect(run.ok).toBe(true);
      expect(stdout).toContain('Ran on a Temporal dev server started for this run');
      expect(stdout).not.toContain('Inspect the run: http');
      expect(stdout).toContain(
        'The dev server stopped with the run: `npm run demo -- --keep-server` keeps it up',
      );
    } finally {
      vi.unstubAllEnvs();
      dir.cleanup();
    }
  }, 120_000);
});
