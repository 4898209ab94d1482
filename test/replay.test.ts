/**
 * Determinism guards without a server: the workflow bundle builds (and rejects Node imports), and
 * the committed histories replay against today's workflows. A change to a workflow that would
 * break running executions fails here. The histories were recorded from a real dev server by the
 * end-to-end test: `OSUSUME_RECORD_HISTORIES=1 npx vitest run test/temporal-e2e.test.ts` (do that
 * only when a workflow change is meant to be incompatible, and ship it behind a patch), except
 * batch-workflow-failed.json, which test/fixtures/record-failed-batch.ts recorded before a patch.
 */
import { readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type ReplayWorkerOptions,
} from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';

const workflowsPath = new URL('../workflows/index.ts', import.meta.url).pathname;
const history = (name: string) =>
  historyFromJSON(
    JSON.parse(readFileSync(new URL(`./fixtures/histories/${name}.json`, import.meta.url), 'utf8')),
  );

beforeAll(() => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
});

describe('workflow bundle', () => {
  it('builds from workflows/', async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
    expect(bundle.code).toContain('tenantWorkflow');
  });

  it('rejects a workflow that imports a Node module, naming it', async () => {
    const leaky = new URL('./fixtures/disallowed-workflow.ts', import.meta.url).pathname;
    const messages: string[] = [];
    const logger = new DefaultLogger('WARN', (entry) => void messages.push(entry.message));
    await expect(bundleWorkflowCode({ workflowsPath: leaky, logger })).rejects.toThrow(
      /Webpack finished with errors/,
    );
    expect(messages.join('\n')).toMatch(/ERROR in node:fs/);
  });
});

describe('replay', () => {
  it('replays a tenant workflow history (a store step retried after a transient failure)', async () => {
    await Worker.runReplayHistory({ workflowsPath }, history('tenant-workflow'), 'tenant-replay');
  });

  it('replays a tenant workflow whose embedding resumed on a second worker', async () => {
    await Worker.runReplayHistory(
      { workflowsPath },
      history('tenant-workflow-resumed'),
      'resumed-replay',
    );
  });

  it('replays a batch workflow run (purge child, tenant children, continue-as-new)', async () => {
    await Worker.runReplayHistory({ workflowsPath }, history('batch-workflow'), 'batch-replay');
  });

  it('replays a batch begun before every failed tenant got a run record (its alert wrote them)', async () => {
    await Worker.runReplayHistory({ workflowsPath }, history('batch-workflow-failed'), 'failed');
  });

  it('would not replay that batch if recording every failure were not behind its patch', async () => {
    const ungated = new URL('./fixtures/unpatched-workflow-api.ts', import.meta.url).pathname;
    const bundlerOptions: ReplayWorkerOptions['bundlerOptions'] = {
      webpackConfigHook: (config) => ({
        ...config,
        resolve: {
          ...config.resolve,
          alias: { ...config.resolve?.alias, '@temporalio/workflow$': ungated },
        },
      }),
    };
    await expect(
      Worker.runReplayHistory(
        { workflowsPath, bundlerOptions },
        history('batch-workflow-failed'),
        'ungated',
      ),
    ).rejects.toThrow(expect.objectContaining({ name: 'DeterminismViolationError' }));
  });

  it('fails on a non-deterministic change', async () => {
    const changed = new URL('./fixtures/reordered-workflows.ts', import.meta.url).pathname;
    await expect(
      Worker.runReplayHistory({ workflowsPath: changed }, history('tenant-workflow'), 'changed'),
    ).rejects.toThrow(expect.objectContaining({ name: 'DeterminismViolationError' }));
  });
});
