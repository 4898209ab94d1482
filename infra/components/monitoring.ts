import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config.js';

export interface MonitoringArgs {
  project: string;
  environment: string;
  alerts: StackConfig['alerts'];
  slackAuthToken?: pulumi.Output<string>;
  /** The API, when deployed: its service name and https URL. */
  api?: { serviceName: pulumi.Input<string>; url: pulumi.Output<string> };
}

/** The log line activities/alert.ts writes for every batch run with failed tenants. */
const BATCH_FAILURE_FILTER =
  'jsonPayload.alert=true AND jsonPayload.message="batch run had failures"';

/**
 * One notification channel and the alert policies an on-call ML engineer needs: API 5xx ratio,
 * API p95 latency, failed batch runs, and an uptime check of the API's health endpoint.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly channel: gcp.monitoring.NotificationChannel;
  readonly policies: Record<string, gcp.monitoring.AlertPolicy> = {};
  uptimeCheck?: gcp.monitoring.UptimeCheckConfig;
  private readonly prefix: string;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('osusume:ops:Monitoring', name, {}, opts);
    this.prefix = name;
    const parent = { parent: this };
    const a = args.alerts;
    this.channel = a.email
      ? new gcp.monitoring.NotificationChannel(
          `${name}-email`,
          {
            displayName: `osusume ${args.environment}`,
            type: 'email',
            labels: { email_address: a.email },
          },
          parent,
        )
      : new gcp.monitoring.NotificationChannel(
          `${name}-slack`,
          {
            displayName: `osusume ${args.environment}`,
            type: 'slack',
            labels: { channel_name: a.slackChannel! },
            // readStackConfig refuses a Slack channel without its token.
            sensitiveLabels: { authToken: args.slackAuthToken! },
          },
          parent,
        );

    const failures = new gcp.logging.Metric(
      `${name}-batch-failures`,
      {
        name: `osusume_${args.environment}_batch_failures`,
        description: 'Batch runs in which at least one tenant failed (activities/alert.ts)',
        filter: BATCH_FAILURE_FILTER,
        metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64' },
      },
      parent,
    );
    this.policy('batch-failures', 'osusume batch run had failed tenants', {
      // A log-based metric carries the resource of its entries (the worker pool): no resource filter.
      filter: pulumi.interpolate`metric.type="logging.googleapis.com/user/${failures.name}"`,
      aggregations: [
        {
          alignmentPeriod: '600s',
          perSeriesAligner: 'ALIGN_DELTA',
          crossSeriesReducer: 'REDUCE_SUM',
        },
      ],
      comparison: 'COMPARISON_GT',
      thresholdValue: 0,
      duration: '0s',
    });

    if (args.api) this.watchApi(name, args.project, args.api, a);
    this.registerOutputs({ channel: this.channel.name });
  }

  private watchApi(
    name: string,
    project: string,
    api: NonNullable<MonitoringArgs['api']>,
    a: StackConfig['alerts'],
  ): void {
    const requests = pulumi.interpolate`resource.type="cloud_run_revision" AND resource.labels.service_name="${api.serviceName}" AND metric.type="run.googleapis.com/request_count"`;
    this.policy('api-5xx', `osusume API 5xx ratio above ${a.error5xxRatio}`, {
      filter: pulumi.interpolate`${requests} AND metric.labels.response_code_class="5xx"`,
      denominatorFilter: requests,
      aggregations: [
        {
          alignmentPeriod: '300s',
          perSeriesAligner: 'ALIGN_RATE',
          crossSeriesReducer: 'REDUCE_SUM',
        },
      ],
      denominatorAggregations: [
        {
          alignmentPeriod: '300s',
          perSeriesAligner: 'ALIGN_RATE',
          crossSeriesReducer: 'REDUCE_SUM',
        },
      ],
      comparison: 'COMPARISON_GT',
      thresholdValue: a.error5xxRatio,
      duration: '300s',
    });
    this.policy('api-latency', `osusume API p95 latency above ${a.latencyP95Ms} ms`, {
      filter: pulumi.interpolate`resource.type="cloud_run_revision" AND resource.labels.service_name="${api.serviceName}" AND metric.type="run.googleapis.com/request_latencies"`,
      aggregations: [
        {
          alignmentPeriod: '300s',
          perSeriesAligner: 'ALIGN_PERCENTILE_95',
          crossSeriesReducer: 'REDUCE_MAX',
        },
      ],
      comparison: 'COMPARISON_GT',
      thresholdValue: a.latencyP95Ms,
      duration: '300s',
    });

    this.uptimeCheck = new gcp.monitoring.UptimeCheckConfig(
      `${name}-uptime`,
      {
        displayName: `osusume API health (${name})`,
        timeout: '10s',
        period: '60s',
        httpCheck: { path: '/healthz', port: 443, useSsl: true, validateSsl: true },
        monitoredResource: {
          type: 'uptime_url',
          labels: { project_id: project, host: api.url.apply((u) => new URL(u).host) },
        },
      },
      { parent: this },
    );
    this.policy('api-uptime', 'osusume API health check failing', {
      filter: pulumi.interpolate`resource.type="uptime_url" AND metric.type="monitoring.googleapis.com/uptime_check/check_passed" AND metric.labels.check_id="${this.uptimeCheck.uptimeCheckId}"`,
      aggregations: [
        {
          alignmentPeriod: '1200s',
          perSeriesAligner: 'ALIGN_NEXT_OLDER',
          crossSeriesReducer: 'REDUCE_COUNT_FALSE',
          groupByFields: ['resource.label.*'],
        },
      ],
      comparison: 'COMPARISON_GT',
      thresholdValue: 1,
      duration: '600s',
    });
  }

  private policy(
    key: string,
    displayName: string,
    threshold: gcp.types.input.monitoring.AlertPolicyConditionConditionThreshold,
  ): void {
    this.policies[key] = new gcp.monitoring.AlertPolicy(
      `${this.prefix}-${key}`,
      {
        displayName,
        combiner: 'OR',
        conditions: [{ displayName, conditionThreshold: threshold }],
        notificationChannels: [this.channel.name],
        alertStrategy: { autoClose: '86400s' },
      },
      { parent: this },
    );
  }
}
