/**
 * The warehouse contract (DESIGN.md): posts and interactions per tenant. Adapters return rows
 * as stored; the extract step validates them so that bad rows are counted and skipped, never fatal.
 */
export interface TenantSummary {
  tenantId: string;
  posts: number;
}

export interface Warehouse {
  /** Every tenant that has at least one post. */
  listTenants(): Promise<TenantSummary[]>;
  /** Posts of a tenant updated at or after `since` (ISO 8601), or all posts without it. */
  readPosts(tenantId: string, since?: string): Promise<Record<string, unknown>[]>;
  /** Interactions of a tenant at or after `since`, or all of them without it. */
  readInteractions(tenantId: string, since?: string): Promise<Record<string, unknown>[]>;
  /**
   * Experiment tracking: one record per tenant and run, written when the run activates, or when
   * it failed for good (with `failure`).
   */
  writeRunRecord(record: RunRecord): Promise<void>;
  /** Newest first. */
  listRunRecords(options: { tenantId?: string; limit: number }): Promise<RunRecord[]>;
  close(): Promise<void>;
}

/** What a tenant's run did, for comparing runs: parameters, versions, inputs, results, artifacts. */
export interface RunRecord {
  runId: string;
  tenantId: string;
  recordedAt: string;
  codeVersion: string;
  modelId: string | null;
  params: Record<string, unknown>;
  inputs: Record<string, number>;
  metrics: Record<string, number>;
  seconds: Record<string, number>;
  artifacts: Record<string, string>;
  /** Set when the run failed: nothing it computed is served. */
  failure?: RunFailure;
}

export interface RunFailure {
  error: string;
}

/** The row form of a run record: its JSON-valued fields as JSON text, in both warehouses. */
export function runRecordToRow(r: RunRecord) {
  return {
    runId: r.runId,
    tenantId: r.tenantId,
    recordedAt: r.recordedAt,
    codeVersion: r.codeVersion,
    modelId: r.modelId,
    // A failure travels inside the params JSON: both warehouses keep their table schema.
    params: JSON.stringify(r.failure ? { ...r.params, failure: r.failure } : r.params),
    inputs: JSON.stringify(r.inputs),
    metrics: JSON.stringify(r.metrics),
    seconds: JSON.stringify(r.seconds),
    artifacts: JSON.stringify(r.artifacts),
  };
}

export function runRecordFromRow(row: Record<string, unknown>): RunRecord {
  const json = (f: string) => JSON.parse(String(row[f] ?? '{}')) as Record<string, never>;
  const { failure, ...params } = json('params') as Record<string, unknown>;
  return {
    runId: String(row.runId),
    tenantId: String(row.tenantId),
    recordedAt: new Date(
      String(row.recordedAt).replace(' ', 'T') +
        (String(row.recordedAt).match(/Z|[+-]\d\d:?\d\d$/) ? '' : 'Z'),
    ).toISOString(),
    codeVersion: String(row.codeVersion),
    modelId: row.modelId == null ? null : String(row.modelId),
    params,
    inputs: json('inputs'),
    metrics: json('metrics'),
    seconds: json('seconds'),
    artifacts: json('artifacts'),
    ...(failure ? { failure: failure as RunFailure } : {}),
  };
}

export const POST_COLUMNS = [
  'tenantId',
  'postId',
  'title',
  'body',
  'createdAt',
  'updatedAt',
  'deleted',
  'lang',
] as const;
export const INTERACTION_COLUMNS = ['tenantId', 'userId', 'postId', 'type', 'ts'] as const;
