/**
 * Deterministic workflow ids: one tenant workflow per tenant and run, so a day's run of a tenant
 * cannot start twice. Tenant ids are percent-encoded (they are untrusted and may hold '/').
 */
export function tenantWorkflowId(runId: string, tenantId: string): string {
  return `osusume-tenant/${runId}/${encodeURIComponent(tenantId)}`;
}

export function purgeWorkflowId(runId: string, tenantId: string): string {
  return `osusume-purge/${runId}/${encodeURIComponent(tenantId)}`;
}

export function batchWorkflowId(runId: string): string {
  return `osusume-batch/${runId}`;
}

/** The run id of a scheduled run: its date (UTC), e.g. 2026-11-22. */
export function runIdForDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function startTestWorkflowId(version: string, tenantId: string): string {
  return `osusume-start-test/${version}/${encodeURIComponent(tenantId)}`;
}
