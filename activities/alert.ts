import type { Config } from '../core/config.js';
import { log } from '../core/log.js';

/** What a batch run reports when it ends (the alert's input). Small on purpose: it is carried across continue-as-new. Lists are capped, counts are not. */
export interface BatchReport {
  runId: string;
  tenants: number;
  succeeded: number;
  skipped: number;
  failedCount: number;
  failed: { tenantId: string; error: string }[];
  purgedCount: number;
  purged: string[];
  retiring: number;
  /** Warehouse tenant ids that are not valid ids: never run (the plan logs each). */
  invalidTenantIds: number;
  posts: number;
  lists: number;
  tenantSeconds: number;
  slowest?: { tenantId: string; seconds: number };
  segments: number;
  /**
   * Every failed tenant's run record was written as its segment ended (failed lists only the
   * first). Absent in batches begun before that: their alert records the failures listed.
   */
  failuresRecorded?: true;
  /**
   * Tenants whose posts were embedded, by model: per pretrained model folder (model.dir), and
   * those that trained their own. Absent when none were (or the run began before it was kept).
   */
  embeddedBy?: { pretrained: Record<string, number>; perTenant: number };
  /** Why the run stopped before any tenant ran (its planning failed); absent when it did not. */
  stoppedBy?: string;
}

/** One line per failure, for Slack and for the log: enough to start debugging. */
export function alertText(report: BatchReport): string {
  if (report.stoppedBy !== undefined)
    return `osusume run ${report.runId} stopped before any tenant ran (served lists are unchanged): ${report.stoppedBy}\nOnce that is fixed, start the batch again (Temporal UI: the failed batch workflow, Reset; or the Schedule's Trigger).`;
  const lines = [
    `osusume run ${report.runId}: ${report.failedCount} of ${report.tenants} tenants failed (a failed tenant's served lists are unchanged).`,
    ...report.failed.map((f) => `• ${f.tenantId}: ${f.error}`),
  ];
  if (report.failedCount > report.failed.length)
    lines.push(`… and ${report.failedCount - report.failed.length} more.`);
  return lines.join('\n');
}

/**
 * Always a structured log line with `alert: true` (the Cloud Monitoring policy for failed runs
 * counts these, infra/components/monitoring.ts); also a Slack message when a webhook is configured.
 */
export async function sendAlert(
  config: Pick<Config, 'alerts'>,
  report: BatchReport,
): Promise<'slack' | 'log'> {
  log.error('batch run had failures', {
    alert: true,
    runId: report.runId,
    failedCount: report.failedCount,
    failed: report.failed,
    ...(report.stoppedBy !== undefined ? { stoppedBy: report.stoppedBy } : {}),
  });
  const url = config.alerts.slackWebhookUrl;
  if (!url) return 'log';
  const text = alertText(report);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  if (!response.ok)
    throw new Error(`Slack webhook answered ${response.status}; check OSUSUME_SLACK_WEBHOOK_URL.`);
  return 'slack';
}
