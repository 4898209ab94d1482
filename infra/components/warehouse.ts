import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

type Field = { name: string; type: string; mode?: 'REQUIRED' | 'REPEATED'; fields?: Field[] };
const f = (name: string, type: string, mode?: Field['mode']): Field => ({
  name,
  type,
  ...(mode ? { mode } : {}),
});

/** The warehouse contract of DESIGN.md (core/warehouse/types.ts reads and writes these columns). */
const POSTS: Field[] = [
  f('tenantId', 'STRING', 'REQUIRED'),
  f('postId', 'STRING', 'REQUIRED'),
  f('title', 'STRING'),
  f('body', 'STRING'),
  f('createdAt', 'TIMESTAMP'),
  f('updatedAt', 'TIMESTAMP'),
  f('deleted', 'BOOL'),
  f('lang', 'STRING'),
];
const INTERACTIONS: Field[] = [
  f('tenantId', 'STRING', 'REQUIRED'),
  f('userId', 'STRING'),
  f('postId', 'STRING', 'REQUIRED'),
  f('type', 'STRING', 'REQUIRED'),
  f('ts', 'TIMESTAMP', 'REQUIRED'),
];
const RUN_RECORDS: Field[] = [
  f('runId', 'STRING', 'REQUIRED'),
  f('tenantId', 'STRING', 'REQUIRED'),
  f('recordedAt', 'TIMESTAMP', 'REQUIRED'),
  f('codeVersion', 'STRING'),
  f('modelId', 'STRING'),
  ...['params', 'inputs', 'metrics', 'seconds', 'artifacts'].map((n) => f(n, 'STRING')),
];

/** The API's logs (DESIGN.md), typed: filled hourly from the log sink by infra/sql/load-logs.sql. */
const REQUEST: Field[] = [
  f('requestId', 'STRING', 'REQUIRED'),
  f('tenantId', 'STRING', 'REQUIRED'),
  f('surface', 'STRING'),
  f('userId', 'STRING'),
  f('ts', 'TIMESTAMP', 'REQUIRED'),
  f('experiment', 'STRING'),
  f('variant', 'STRING'),
];
const LOGS: Record<'exposure_log' | 'assignment_log' | 'outcome_log', Field[]> = {
  exposure_log: [
    ...REQUEST,
    // The experiment's split the variant was drawn from: the sample-ratio check's shares.
    f('split', 'STRING'),
    f('postId', 'STRING'),
    f('algorithm', 'STRING'),
    f('version', 'STRING'),
    {
      name: 'items',
      type: 'RECORD',
      mode: 'REPEATED',
      fields: [
        f('postId', 'STRING'),
        f('rank', 'INT64'),
        f('score', 'FLOAT64'),
        f('team', 'STRING'),
      ],
    },
    f('latencyMs', 'FLOAT64'),
    f('fallback', 'BOOL'),
    // The experiment the request met but was not enrolled in (its lists are not computed yet), and why.
    f('notEnrolled', 'STRING'),
    f('notEnrolledReason', 'STRING'),
  ],
  assignment_log: REQUEST,
  outcome_log: [
    f('eventId', 'STRING', 'REQUIRED'),
    f('requestId', 'STRING', 'REQUIRED'),
    f('tenantId', 'STRING', 'REQUIRED'),
    f('postId', 'STRING'),
    f('type', 'STRING'),
    f('ts', 'TIMESTAMP', 'REQUIRED'),
    f('receivedAt', 'TIMESTAMP'),
  ],
};
export type LogTable = keyof typeof LOGS;
export const LOG_TABLES = Object.keys(LOGS) as LogTable[];

export interface WarehouseArgs {
  datasetId: string;
  location: string;
  labels: Record<string, string>;
  protect: boolean;
  postsViewQuery?: string;
  logRetentionDays: number;
}

/**
 * The BigQuery dataset: the posts source contract (table or view), interactions, run records and
 * the three log tables, partitioned by day and clustered by tenant so that per-tenant analysis
 * scans only that tenant's blocks.
 */
export class Warehouse extends pulumi.ComponentResource {
  readonly dataset: gcp.bigquery.Dataset;
  readonly tables: Record<string, gcp.bigquery.Table> = {};

  constructor(name: string, args: WarehouseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('osusume:data:Warehouse', name, {}, opts);
    this.dataset = new gcp.bigquery.Dataset(
      name,
      {
        datasetId: args.datasetId,
        location: args.location,
        description: 'osusume: posts, interactions, run records and API logs',
        deleteContentsOnDestroy: !args.protect,
        labels: args.labels,
      },
      { parent: this, protect: args.protect },
    );
    const day = (field: string, expirationDays?: number) => ({
      type: 'DAY',
      field,
      ...(expirationDays ? { expirationMs: expirationDays * 86_400_000 } : {}),
    });
    this.tables.posts = args.postsViewQuery
      ? this.table('posts', args, { view: { query: args.postsViewQuery, useLegacySql: false } })
      : this.table('posts', args, { schema: JSON.stringify(POSTS), clusterings: ['tenantId'] });
    this.tables.interactions = this.table('interactions', args, {
      schema: JSON.stringify(INTERACTIONS),
      timePartitioning: day('ts'),
      clusterings: ['tenantId'],
    });
    this.tables.run_records = this.table('run_records', args, {
      schema: JSON.stringify(RUN_RECORDS),
      timePartitioning: day('recordedAt'),
      clusterings: ['tenantId'],
    });
    for (const log of LOG_TABLES)
      this.tables[log] = this.table(log, args, {
        schema: JSON.stringify(LOGS[log]),
        timePartitioning: day('ts', args.logRetentionDays),
        clusterings: log === 'outcome_log' ? ['tenantId'] : ['tenantId', 'experiment'],
      });
    this.registerOutputs({ datasetId: this.dataset.datasetId });
  }

  private table(
    tableId: string,
    args: WarehouseArgs,
    spec: Partial<gcp.bigquery.TableArgs>,
  ): gcp.bigquery.Table {
    return new gcp.bigquery.Table(
      `${tableId}`,
      {
        datasetId: this.dataset.datasetId,
        tableId,
        labels: args.labels,
        deletionProtection: args.protect,
        ...spec,
      },
      { parent: this, protect: args.protect },
    );
  }
}
