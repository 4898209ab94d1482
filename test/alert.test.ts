import { createServer } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { alertText, sendAlert } from '../activities/alert.js';
import { emptyReport } from '../workflows/batch-flow.js';

const report = {
  ...emptyReport('2026-11-22', {
    tenantsUri: 'u',
    tenants: 3,
    retired: [],
    retiring: 0,
    invalidTenantIds: 0,
  }),
  succeeded: 1,
  failedCount: 2,
  failed: [
    { tenantId: 'acme', error: 'Tenant "acme": none of its 3 rows is a valid post' },
    { tenantId: 'beta', error: 'store went away' },
  ],
};

describe('failure alerts', () => {
  it('posts one message per run to a Slack incoming webhook, and still writes the alert line', async () => {
    const received: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({
          method: req.method,
          type: req.headers['content-type'],
          body: JSON.parse(body),
        });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    const lines: string[] = [];
    const spy = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk) => (lines.push(String(chunk)), true));
    expect(await sendAlert({ alerts: { slackWebhookUrl: url } }, report)).toBe('slack');
    spy.mockRestore();
    server.close();
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ alert: true, runId: '2026-11-22' });
    expect(received).toEqual([
      { method: 'POST', type: 'application/json', body: { text: alertText(report) } },
    ]);
    expect(alertText(report)).toBe(
      "osusume run 2026-11-22: 2 of 3 tenants failed (a failed tenant's served lists are unchanged).\n" +
        '• acme: Tenant "acme": none of its 3 rows is a valid post\n• beta: store went away',
    );
  });

  it('writes a structured error line when no webhook is configured, and says when Slack refuses', async () => {
    const lines: string[] = [];
    const spy = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk) => (lines.push(String(chunk)), true));
    expect(await sendAlert({ alerts: {} }, report)).toBe('log');
    spy.mockRestore();
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      severity: 'ERROR',
      alert: true,
      runId: '2026-11-22',
      failedCount: 2,
      failed: report.failed,
    });
    const server = createServer((_, res) => {
      res.statusCode = 404;
      res.end('no_team');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    await expect(sendAlert({ alerts: { slackWebhookUrl: url } }, report)).rejects.toThrow(
      /answered 404.*OSUSUME_SLACK_WEBHOOK_URL/,
    );
    server.close();
  });
});
