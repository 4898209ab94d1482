import { BigQuery, type Query } from '@google-cloud/bigquery';
import { BackendError } from '../errors.js';
import { GoogleCredentials } from '../google-credentials.js';
import {
  INTERACTION_COLUMNS,
  POST_COLUMNS,
  runRecordFromRow,
  runRecordToRow,
  type RunRecord,
  type TenantSummary,
  type Warehouse,
} from './types.js';

export interface BigQueryWarehouseOptions {
  projectId: string;
  dataset: string;
  location: string;
  postsTable: string;
  interactionsTable: string;
  runRecordsTable: string;
  apiEndpoint?: string;
}

/**
 * The production warehouse. Table names come from validated configuration; tenant ids and
 * watermarks are always named query parameters (@tenantId, @since).
 */
export class BigQueryWarehouse implements Warehouse {
  private readonly client: BigQuery;
  /** An apiEndpoint of its own (a stand-in) is called without credentials: nothing to look for. */
  private readonly credentials: GoogleCredentials | undefined;

  constructor(private readonly options: BigQueryWarehouseOptions) {
    this.client = new BigQuery({
      projectId: options.projectId,
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    });
    this.credentials = options.apiEndpoint
      ? undefined
      : new GoogleCredentials('BigQuery', options.projectId);
  }

  private table(name: string): string {
    return `\`${this.options.projectId}.${this.options.dataset}.${name}\``;
  }

  private async query(query: Query): Promise<Record<string, unknown>[]> {
    await this.credentials?.require();
    try {
      const [rows] = await this.client.query({
        ...query,
        location: this.options.location,
        useLegacySql: false,
      });
      return (rows as Record<string, unknown>[]).map(unwrapRow);
    } catch (error) {
      throw new BackendError(`BigQuery query failed: ${(error as Error).message}`);
    }
  }

  async listTenants(): Promise<TenantSummary[]> {
    const rows = await this.query({
      query: `SELECT tenantId, COUNT(*) AS posts FROM ${this.table(this.options.postsTable)}
              WHERE tenantId IS NOT NULL GROUP BY tenantId ORDER BY tenantId`,
    });
    return rows.map((r) => ({ tenantId: String(r.tenantId), posts: Number(r.posts) }));
  }

  /** A tenant's rows, optionally only those at or after `since` in `timeColumn`. */
  private readTenantRows(
    table: string,
    columns: readonly string[],
    timeColumn: string,
    orderBy: string,
    tenantId: string,
    since?: string,
  ): Promise<Record<string, unknown>[]> {
    const where = since
      ? `tenantId = @tenantId AND ${timeColumn} >= @since`
      : 'tenantId = @tenantId';
    return this.query({
      query: `SELECT ${columns.join(', ')} FROM ${this.table(table)} WHERE ${where} ORDER BY ${orderBy}`,
      params: since ? { tenantId, since: BigQuery.timestamp(since) } : { tenantId },
      types: since ? { tenantId: 'STRING', since: 'TIMESTAMP' } : { tenantId: 'STRING' },
    });
  }

  async readPosts(tenantId: string, since?: string): Promise<Record<string, unknown>[]> {
    return this.readTenantRows(
      this.options.postsTable,
      POST_COLUMNS,
      'updatedAt',
      'postId, updatedAt',
      tenantId,
      since,
    );
  }

  async readInteractions(tenantId: string, since?: string): Promise<Record<string, unknown>[]> {
    return this.readTenantRows(
      this.options.interactionsTable,
      INTERACTION_COLUMNS,
      'ts',
      'ts',
      tenantId,
      since,
    );
  }

  async writeRunRecord(record: RunRecord): Promise<void> {
    await this.credentials?.require();
    try {
      await this.client
        .dataset(this.options.dataset)
        .table(this.options.runRecordsTable)
        .insert(
          [
            {
              // A failed attempt and the successful re-run are two records, not one deduplicated.
              insertId: `${record.runId}/${record.tenantId}${record.failure ? '/failed' : ''}`,
              json: runRecordToRow(record),
            },
          ],
          { raw: true },
        );
    } catch (error) {
      throw new BackendError(`BigQuery run record insert failed: ${(error as Error).message}`);
    }
  }

  async listRunRecords(options: { tenantId?: string; limit: number }): Promise<RunRecord[]> {
    const table = this.table(this.options.runRecordsTable);
    const where = options.tenantId ? 'WHERE tenantId = @tenantId' : '';
    const rows = await this.query({
      query: `SELECT runId, tenantId, recordedAt, codeVersion, modelId, params, inputs, metrics, seconds, artifacts
              FROM ${table} ${where} ORDER BY recordedAt DESC, tenantId LIMIT @limit`,
      params: { ...(options.tenantId ? { tenantId: options.tenantId } : {}), limit: options.limit },
      types: { ...(options.tenantId ? { tenantId: 'STRING' } : {}), limit: 'INT64' },
    });
    return rows.map(runRecordFromRow);
  }

  async close(): Promise<void> {}
}

/** The client wraps TIMESTAMP values as { value: ISO string }; the pipeline wants plain values. */
function unwrapRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      v && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : v,
    ]),
  );
}
