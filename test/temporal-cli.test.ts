/**
 * `osusume temporal` and `osusume worker` as a user runs them, against a real Temporal dev server
 * (scripts/temporal-dev-server.ts): `run-now --wait` printing the batch's report formatted as the
 * demo prints it (as JSON with --json), and a worker whose model.dir is not there refusing to
 * start, as the local batch does.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchReport } from '../activities/alert.js';
import { parseConfig } from '../core/config.js';
import { formatReport, formatTenantTable } from '../scripts/batch.js';
import type { TenantReport } from '../scripts/in-process.js';
import { createWorker } from '../scripts/worker.js';
import { batchWorkflowId, tenantWorkflowId } from '../workflows/ids.js';
import { runOsusume } from './helpers/cli.js';
import { emptyPost, loadPosts, tempDir, topicPosts } from './helpers/fixtures.js';
import { devServerOrSkip, rawWorkerConfig, spawnWorker } from './helpers/temporal-server.js';

// The in-process worker logs its state changes; only warnings matter here.
Runtime.install({ logger: new DefaultLogger('WARN') });

const server = await devServerOrSkip('osusume temporal and osusume worker on a dev server');
const tmp = tempDir('osusume-temporal-cli-');
const taskQueue = 'osusume-temporal-cli';
const raw = rawWorkerConfig(tmp.dir, taskQueue);
const config = parseConfig(raw, tmp.dir);
const env = server && {
  TEMPORAL_ADDRESS: server.address,
  TEMPORAL_NAMESPACE: server.namespace,
  TEMPORAL_TASK_QUEUE: taskQueue,
};

beforeAll(async () => {
  // Embedding lists for a tenant big enough for them: the report says which model embedded.
  // A tenant with no valid post fails: the command then exits 1, as `osusume batch` does.
  writeFileSync(config.experimentsFile, 'defaultAlgorithm: embedding\n');
  await loadPosts(config, [...topicPosts('acme', 8, 1), emptyPost('broken', 'a')]);
});
afterAll(async () => {
  await server?.teardown();
  tmp.cleanup();
});

describe('osusume temporal run-now --wait', () => {
  it("prints the batch's report formatted as the demo does, and as JSON alone on stdout with --json; failed tenants exit 1", async () => {
    if (!server) return;
    const osusume = (args: string[]) => runOsusume(args, { cwd: tmp.dir, env: env! });
    const { worker, close } = await createWorker(config, server.env.nativeConnection);
    const { formatted, json } = await worker
      .runUntil(async () => ({
        formatted: await osusume(['temporal', 'run-now', '--run-id', 'r1', '--wait']),
        json: await osusume(['temporal', 'run-now', '--run-id', 'r2', '--wait', '--json']),
      }))
      .finally(close);
    const handle = (runId: string) => server.env.client.workflow.getHandle(batchWorkflowId(runId));
    const started = async (runId: string) =>
      `Started ${batchWorkflowId(runId)} (run ${(await handle(runId).describe()).runId}) on ${server.address}, namespace ${server.namespace}.\n`;

    const failed = (runId: string) =>
      `\n1 tenant failed; a failed tenant's served lists are unchanged. Fix the cause the report gives for each failed tenant, then run again: osusume temporal run-now --run-id ${runId} --wait (the tenants that succeeded are skipped).\n`;
    const first = (await handle('r1').result()) as BatchReport;
    expect(first.failed.map((f) => f.tenantId)).toEqual(['broken']);
    expect(formatted.code).toBe(1);
    expect(formatted.stdout).toBe(`${await started('r1')}${formatReport(first)}\n${failed('r1')}`);
    expect(formatted.stdout).toContain(
      "\n  embedded with per-tenant models, each trained on its tenant's posts (1 tenant)\n",
    );

    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual(await handle('r2').result());
    expect(json.stdout).toMatch(/^\{\n {2}"runId": "r2",/);
    expect(json.stderr).toContain(await started('r2'));
    expect(json.stderr).toContain(failed('r2'));
  }, 120_000);

  it("run-tenant --wait prints the tenant's row as osusume batch does, or its report as JSON", async () => {
    if (!server) return;
    const osusume = (args: string[]) => runOsusume(args, { cwd: tmp.dir, env: env! });
    const tenant = (runId: string, ...more: string[]) =>
      osusume(['temporal', 'run-tenant', '--tenant', 'acme', '--run-id', runId, '--wait', ...more]);
    const { worker, close } = await createWorker(config, server.env.nativeConnection);
    const { first, again, json } = await worker
      .runUntil(async () => ({
        first: await tenant('t1'),
        again: await tenant('t1'),
        json: await tenant('t2', '--json'),
      }))
      .finally(close);
    // The execution a command started: a second run-tenant of t1 starts another under the same id.
    const result = ({ stdout }: { stdout: string }, runId: string) =>
      server.env.client.workflow
        .getHandle(tenantWorkflowId(runId, 'acme'), /\(run ([^)]+)\)/.exec(stdout)![1])
        .result();

    expect(first.code).toBe(0);
    const table = formatTenantTable([(await result(first, 't1')) as TenantReport]).join('\n');
    expect(first.stdout).toContain(`\nacme: version t1 computed and activated.\n${table}\n`);
    expect(table).toMatch(/^tenant +algorithms +posts[^\n]*\nacme +embedding +8 +8 /);
    expect(again.stdout).toContain(
      'acme: run t1 is already served, so nothing was computed; run with a new --run-id to serve new data.\n',
    );
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(await result({ stdout: json.stderr }, 't2'));
  }, 120_000);

  it('refuses --json without --wait before connecting to anything', async () => {
    // An address where nothing listens: a connection attempt would fail only after seconds.
    const run = await runOsusume(['temporal', 'run-now', '--json'], {
      cwd: tmp.dir,
      env: { TEMPORAL_ADDRESS: '127.0.0.1:9' },
    });
    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'osusume temporal run-now: --json goes with --wait (without it there is no report to print): add --wait, or leave out --json.\n',
    });
  });
});

describe('osusume worker', () => {
  it('refuses to start with a model.dir that is not there, as the local batch does', async () => {
    if (!server) return;
    const typo = path.join(tmp.dir, 'models/e5-smal');
    const worker = spawnWorker(server, { ...raw, model: { dir: typo } });
    try {
      // A worker that took the folder for "per-tenant models" would poll until killed.
      const polling = new Promise((resolve) => setTimeout(() => resolve('still polling'), 30_000));
      expect(await Promise.race([worker.exited, polling])).toBe(1);
      expect(worker.output()).toContain(
        `osusume worker: model.dir resolves to ${typo}, which does not exist. The folder must hold the model files`,
      );
      expect(worker.output()).toContain('or remove model.dir from the configuration');
    } finally {
      worker.child.kill('SIGKILL');
    }
  }, 60_000);
});
