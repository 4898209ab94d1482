/**
 * A third-party API fuzzer against the real API: schemathesis (PyPI, installed by set-up) reads
 * the running server's /openapi.json and sends schema-driven requests with a valid key. It fails
 * on any 5xx, any response that the published document does not allow (status code, content
 * type, headers, body schema), and any request that the document allows but the API refuses.
 * The server serves lists that the real batch computed from a slice of the demo man pages.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContext } from '../activities/context.js';
import { startServer, type RunningServer } from '../api/server.js';
import { addApiKey } from '../scripts/api-key.js';
import { runBatch } from '../scripts/batch.js';
import { loadPosts, tempDir, testConfig } from './helpers/fixtures.js';
import { schemathesis } from './helpers/pypi.js';

const executable = schemathesis();
const TENANTS = ['en-man4', 'ja-man4', 'en-man8', 'en-man6'];
const SEED = process.env.SCHEMATHESIS_SEED ?? '1';

function demoPosts(): unknown[] {
  return gunzipSync(readFileSync('demo/posts.jsonl.gz'))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { tenantId: string })
    .filter((post) => TENANTS.includes(post.tenantId))
    .map((post) => ({
      ...post,
      createdAt: '2024-01-01T00:00:00Z',
      updatedAt: '2024-01-01T00:00:00Z',
    }));
}

/** Runs the CLI to completion (bounded by its example count and a kill after `timeoutMs`). */
function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe.skipIf(!executable)('schemathesis against the running API', () => {
  const tmp = tempDir();
  let server: RunningServer;
  let key: string;

  beforeAll(async () => {
    const config = testConfig(tmp.dir, { experimentsFile: 'experiments.yaml' });
    // The repository's experiments: an A/B test and an interleaving test, as deployed.
    copyFileSync('experiments.yaml', config.experimentsFile);
    await loadPosts(config, demoPosts());
    const ctx = await openContext(config);
    try {
      const batch = await runBatch(ctx, { runId: 'fuzz' });
      expect(batch.failed).toEqual([]);
    } finally {
      await ctx.close();
    }
    key = addApiKey(config.api.keysFile, 'fuzz', ['*']);
    server = await startServer(config, 0);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    tmp.cleanup();
  });

  it('finds no server error, no schema violation and no valid request refused', async () => {
    const { code, output } = await run(
      executable!,
      [
        'run',
        `${server.url}/openapi.json`,
        '--header',
        `Authorization: Bearer ${key}`,
        '--checks',
        [
          'not_a_server_error',
          'status_code_conformance',
          'content_type_conformance',
          'response_headers_conformance',
          'response_schema_conformance',
          'positive_data_acceptance',
        ].join(','),
        '--phases',
        'examples,coverage,fuzzing',
        '--max-examples',
        '40',
        '--seed',
        SEED,
        '--workers',
        '1',
        '--request-timeout',
        '10',
        '--no-color',
      ],
      tmp.dir,
      150_000,
    );
    // Show what it did (operations, test cases) and, on failure, how to reproduce each case.
    console.log(
      output
        .split('\n')
        .filter((l) => l.trim())
        .slice(-25)
        .join('\n'),
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/Operations:\s+3 selected \/ 3 total/);
    expect(output).toMatch(/No issues found/);
  }, 180_000);
});
