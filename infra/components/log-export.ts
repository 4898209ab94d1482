import { readFileSync } from 'node:fs';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { LOG_TABLES, type Warehouse } from './warehouse.js';

const LOAD_LOGS_SQL = readFileSync(new URL('../sql/load-logs.sql', import.meta.url), 'utf8');

/** The Cloud Logging filter of the API's exposure, assignment and outcome entries (api/logs.ts). */
function apiLogFilter(serviceName: string): string {
  return [
    'resource.type="cloud_run_revision"',
    `resource.labels.service_name="${serviceName}"`,
    'jsonPayload.logName=("osusume-exposure" OR "osusume-assignment" OR "osusume-outcome")',
  ].join(' AND ');
}

function loadLogsQuery(project: string, dataset: string, raw: string): string {
  return LOAD_LOGS_SQL.replaceAll('{{dataset}}', `${project}.${dataset}`).replaceAll(
    '{{raw}}',
    `${project}.${raw}`,
  );
}

export interface LogExportArgs {
  project: string;
  location: string;
  rawDatasetId: string;
  apiServiceName: string;
  warehouse: Warehouse;
  labels: Record<string, string>;
}

/**
 * API logs into BigQuery: a logging sink routes the API's entries into a raw dataset (day
 * partitions, kept 30 days), and an hourly scheduled query loads them into the warehouse's typed
 * log tables. A sink can only write its own LogEntry-shaped tables, which cannot be clustered by
 * tenant; the typed tables can.
 */
export class LogExport extends pulumi.ComponentResource {
  readonly sink: gcp.logging.ProjectSink;
  readonly loader: gcp.bigquery.DataTransferConfig;
  readonly loaderAccount: gcp.serviceaccount.Account;

  constructor(name: string, args: LogExportArgs, opts?: pulumi.ComponentResourceOptions) {
    super('osusume:data:LogExport', name, {}, opts);
    const parent = { parent: this };
    const raw = new gcp.bigquery.Dataset(
      `${name}-raw`,
      {
        datasetId: args.rawDatasetId,
        location: args.location,
        description:
          'Raw API log entries from the logging sink (loaded hourly into the typed tables)',
        defaultPartitionExpirationMs: 30 * 86_400_000,
        deleteContentsOnDestroy: true,
        labels: args.labels,
      },
      parent,
    );
    this.sink = new gcp.logging.ProjectSink(
      `${name}-sink`,
      {
        name: `osusume-api-logs-${args.apiServiceName}`,
        destination: pulumi.interpolate`bigquery.googleapis.com/projects/${args.project}/datasets/${raw.datasetId}`,
        filter: apiLogFilter(args.apiServiceName),
        bigqueryOptions: { usePartitionedTables: true },
        uniqueWriterIdentity: true,
      },
      parent,
    );
    new gcp.bigquery.DatasetIamMember(
      `${name}-sink-writer`,
      {
        datasetId: raw.datasetId,
        role: 'roles/bigquery.dataEditor',
        member: this.sink.writerIdentity,
      },
      parent,
    );

    this.loaderAccount = new gcp.serviceaccount.Account(
      `${name}-loader`,
      {
        accountId: `osusume-logs-${args.labels.environment}`,
        displayName: 'osusume log loader (scheduled query)',
      },
      parent,
    );
    const loader = pulumi.interpolate`serviceAccount:${this.loaderAccount.email}`;
    new gcp.bigquery.DatasetIamMember(
      `${name}-loader-reads-raw`,
      { datasetId: raw.datasetId, role: 'roles/bigquery.dataViewer', member: loader },
      parent,
    );
    for (const table of LOG_TABLES)
      new gcp.bigquery.IamMember(
        `${name}-loader-writes-${table}`,
        {
          datasetId: args.warehouse.dataset.datasetId,
          tableId: args.warehouse.tables[table]!.tableId,
          role: 'roles/bigquery.dataEditor',
          member: loader,
        },
        parent,
      );
    new gcp.projects.IAMMember(
      `${name}-loader-jobs`,
      { project: args.project, role: 'roles/bigquery.jobUser', member: loader },
      parent,
    );
    this.loader = new gcp.bigquery.DataTransferConfig(
      `${name}-loader`,
      {
        displayName: `osusume load API logs (${args.labels.environment})`,
        dataSourceId: 'scheduled_query',
        location: args.location,
        schedule: 'every 1 hours',
        serviceAccountName: this.loaderAccount.email,
        params: {
          query: pulumi
            .all([args.warehouse.dataset.datasetId, raw.datasetId])
            .apply(([dataset, rawId]) => loadLogsQuery(args.project, dataset, rawId)),
        },
      },
      parent,
    );
    this.registerOutputs({ sink: this.sink.name, rawDataset: raw.datasetId });
  }
}
