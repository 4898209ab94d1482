/**
 * Failed tenants' run records on a real Temporal dev server with the real worker and activities:
 * every failed tenant gets one, written at most 100 per activity call, while the report (and the
 * alert) name the first 100.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.js';
import { causeChain, errorMessage } from '../core/errors.js';
import { openWarehouse } from '../core/warehouse/index.js';
import { WORKFLOWS_PATH } from '../scripts/worker.js';
import type { FailedRuns } from '../workflows/batch-flow.js';
import { batchWorkflowId } from '../workflows/ids.js';
import { emptyPost, loadPosts, tempDir, topicPosts } from './helpers/fixtures.js';
import { devServerOrSkip, rawWorkerConfig, runBatchWorkflow } from './helpers/temporal-server.js';

// 150 tenants fail on purpose: the SDK's warning about each would bury the test's own output.
Runtime.install({ logger: new DefaultLogger('ERROR') });
const server = await devServerOrSkip('failed run records on Temporal');
const tmp = tempDir('osusume-failed-runs-');
const config = parseConfig(rawWorkerConfig(tmp.dir, 'osusume-failed-runs'), tmp.dir);

afterAll(async () => {
  await server?.teardown();
  tmp.cleanup();
});

describe.skipIf(server === null)('failed run records on a Temporal dev server', () => {
  it('records every failed tenant of a batch, 100 per activity call at most', async () => {
    const runId = '2026-11-24';
    // Tenants whose posts are all empty fail at extract (bad data: at once, not retried).
    const broken = Array.from({ length: 150 }, (_, i) => `broken-${String(i).padStart(3, '0')}`);
    await loadPosts(config, [...topicPosts('fine', 3), ...broken.map((t) => emptyPost(t, 'p1'))]);

    const report = await runBatchWorkflow(server!, config, {
      runId,
      options: { tenantsPerSegment: 120 },
    });
    expect(report).toMatchObject({ succeeded: 1, failedCount: 150, segments: 2 });
    expect(report.failed).toHaveLength(100);

    const warehouse = await openWarehouse(config.warehouse);
    try {
      const records = await warehouse.listRunRecords({ limit: 1000 });
      const failed = records.filter((r) => r.failure);
      expect(failed.map((r) => r.tenantId).sort()).toEqual(broken);
      expect(failed[0]!.failure!.error).toMatch(/none of its 1 rows is a valid post/);
    } finally {
      await warehouse.close();
    }

    // Both runs of the batch (it continued as new after 120 tenants): what each recording call
    // was given, and the histories replay against today's workflows (the patch marker included).
    const histories = [];
    for await (const run of server!.env.client.workflow.list({
      query: `WorkflowId = '${batchWorkflowId(runId)}'`,
    })) {
      histories.push(
        await server!.env.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory(),
      );
    }
    expect(histories).toHaveLength(2);
    const calls = histories
      .flatMap((h) => h.events!)
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'recordFailedRuns')
      .map((a) => defaultPayloadConverter.fromPayload<FailedRuns>(a!.input!.payloads![0]!));
    expect(calls.every((c) => c.failed.length <= 100)).toBe(true);
    expect(calls.flatMap((c) => c.failed.map((f) => f.tenantId)).sort()).toEqual(broken);
    for (const history of histories)
      await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history);
  }, 240_000);

  it('stops a batch whose experiments file has an error before any tenant runs, and alerts once', async () => {
    const runId = '2026-11-25';
    writeFileSync(
      config.experimentsFile,
      'experiments:\n  - id: typo\n    surface: footer\n    variants: [{ name: a, algorithm: fieldd }]\n',
    );
    // A Slack incoming webhook: the alert's one message.
    const messages: string[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        messages.push((JSON.parse(body) as { text: string }).text);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const alerting = { ...config, alerts: { ...config.alerts, slackWebhookUrl: url } };
    let failure: unknown;
    try {
      await runBatchWorkflow(server!, alerting, { runId });
    } catch (error) {
      failure = error;
    } finally {
      rmSync(config.experimentsFile);
      hook.close();
    }
    expect(errorMessage(causeChain(failure).at(-1))).toMatch(/experiments\.yaml is invalid/);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      /^osusume run 2026-11-25 stopped before any tenant ran \(served lists are unchanged\): .*experiments\.yaml is invalid:\n.*algorithm/s,
    );
    // Planned once (bad configuration is not retried), alerted once, and no tenant started.
    const history = await server!.env.client.workflow
      .getHandle(batchWorkflowId(runId))
      .fetchHistory();
    const events = history.events!;
    const scheduled = events
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    expect(scheduled).toEqual(['planRun', 'alert']);
    expect(events.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(false);
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history);
  }, 120_000);
});
