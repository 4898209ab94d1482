import { BigQuery, type Query } from '@google-cloud/bigquery';
import { BackendError } from '../errors.js';
import type { TenantSummary, Warehouse } from './types.js';

export interface BigQueryWarehouseOptions {
  projectId: string;
  dataset: string;
  location: string;
  postsTable: string;
  interactionsTable: string;
  apiEndpoint?: string;
}

/**
 * The production warehouse. Table names come from validated configuration; tenant ids and
 * watermarks are always named query parameters (@tenantId, @since).
 */
export class BigQueryWarehouse implements Warehouse {
  private readonly client: BigQuery;

  constructor(private readonly options: BigQueryWarehouseOptions) {
    this.client = new BigQuery({
      projectId: options.projectId,
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    });
  }

  private table(name: string): string {
    return `\`${this.options.projectId}.${this.options.dataset}.${name}\``;
  }

  private async query(query: Query): Promise<Record<string, unknown>[]> {
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

  async readPosts(tenantId: string, since?: string): Promise<Record<string, unknown>[]> {
    const columns = 'tenantId, postId, title, body, createdAt, updatedAt, deleted, lang';
    const table = this.table(this.options.postsTable);
    return this.query(
      since
        ? {
            query: `SELECT ${columns} FROM ${table} WHERE tenantId = @tenantId AND updatedAt >= @since ORDER BY postId, updatedAt`,
            params: { tenantId, since: BigQuery.timestamp(since) },
            types: { tenantId: 'STRING', since: 'TIMESTAMP' },
          }
        : {
            query: `SELECT ${columns} FROM ${table} WHERE tenantId = @tenantId ORDER BY postId, updatedAt`,
            params: { tenantId },
            types: { tenantId: 'STRING' },
          },
    );
  }

  async readInteractions(tenantId: string, since?: string): Promise<Record<string, unknown>[]> {
    const columns = 'tenantId, userId, postId, type, ts';
    const table = this.table(this.options.interactionsTable);
    return this.query(
      since
        ? {
            query: `SELECT ${columns} FROM ${table} WHERE tenantId = @tenantId AND ts >= @since ORDER BY ts`,
            params: { tenantId, since: BigQuery.timestamp(since) },
            types: { tenantId: 'STRING', since: 'TIMESTAMP' },
          }
        : {
            query: `SELECT ${columns} FROM ${table} WHERE tenantId = @tenantId ORDER BY ts`,
            params: { tenantId },
            types: { tenantId: 'STRING' },
          },
    );
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
