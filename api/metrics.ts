import { Counter, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/** The label values of one request latency series. */
interface RequestLabels {
  route: string;
  status: string;
  tenant: string;
  variant: string;
}

interface ExportedValue {
  labels: Partial<RequestLabels> & { le?: number | string };
  sharedLabels?: RequestLabels;
  value: number;
  metricName: string;
  exemplar?: null;
}

interface ExportedHistogram {
  name: string;
  help: string;
  type: 'histogram';
  values: ExportedValue[];
  aggregator: 'sum';
}

interface Series {
  labels: RequestLabels;
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram of request latencies, observed on every request. prom-client's own
 * Histogram builds a labels object, checks its names and renders a series key for each
 * observation, which cost the related endpoint about a tenth of its CPU under load (`npm run
 * bench:api`); here a series is found by one string key and counted in an array. It renders
 * exactly what prom-client's Histogram renders for the same observations (the registry formats
 * both from the same values; test/metrics.test.ts compares them on generated observations).
 */
export class RequestHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  observe(route: string, status: string, tenant: string, variant: string, seconds: number): void {
    if (!Number.isFinite(seconds)) throw new TypeError(`Value is not a valid number: ${seconds}`);
    const key = `${route}\u0000${status}\u0000${tenant}\u0000${variant}`;
    let series = this.series.get(key);
    if (!series) {
      series = {
        labels: { route, status, tenant, variant },
        counts: new Array<number>(this.buckets.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.buckets.length && seconds > this.buckets[bucket]!) bucket += 1;
    series.counts[bucket]! += 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** The values as prom-client's Histogram hands them to the registry (series labels apart). */
  getForPromString(): ExportedHistogram {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += counts[i]!;
        values.push({
          labels: { le },
          sharedLabels: labels,
          value: cumulative,
          metricName: bucket,
          exemplar: null,
        });
      });
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: labels,
          value: count,
          metricName: bucket,
          exemplar: null,
        },
        { labels: {}, sharedLabels: labels, value: sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: labels, value: count, metricName: `${this.name}_count` },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  /** The same with each value's labels whole (`registry.getMetricsAsJSON`). */
  get(): ExportedHistogram {
    const metric = this.getForPromString();
    return {
      ...metric,
      values: metric.values.map(({ sharedLabels, labels, ...value }) => ({
        ...value,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }

  reset(): void {
    this.series.clear();
  }
}

/** Prometheus metrics of the API (GET /metrics). */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new RequestHistogram(
    'osusume_http_request_duration_seconds',
    'Request latency by route, status, tenant and experiment variant.',
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    this.registry,
  );
  readonly storeErrors = new Counter({
    name: 'osusume_store_errors_total',
    help: 'Store reads that failed or timed out (answered from the popular fallback).',
    labelNames: ['tenant', 'kind'],
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: 'osusume_fallback_responses_total',
    help: 'Related-post responses answered (partly) from the popular list.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });

  readonly fastPath = new Counter({
    name: 'osusume_fast_path_responses_total',
    help: 'Related-post requests answered by the synchronous fast path (the rest go through Hono).',
    registers: [this.registry],
  });

  /** Tenants with a label of their own: bounded, and only tenants that are served. */
  private readonly labelled = new Set<string>();
  private scraping: Promise<string> | undefined;

  constructor(
    private readonly tenantLabels: boolean,
    private readonly maxTenantLabels = 200,
  ) {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A tenant found to have an active version: it gets its own label while there is room. */
  servedTenant(tenantId: string): void {
    if (this.labelled.size < this.maxTenantLabels) this.labelled.add(tenantId);
  }

  /** The exposition text; concurrent scrapes share one rendering. */
  scrape(): Promise<string> {
    this.scraping ??= this.registry.metrics().finally(() => (this.scraping = undefined));
    return this.scraping;
  }

  /** One request's latency since `started` (performance.now()), by route, status, tenant and variant. */
  observeRequest(
    route: string,
    status: number,
    tenantId: string | undefined,
    variant: string | undefined,
    started: number,
  ): void {
    this.requests.observe(
      route,
      String(status),
      this.tenant(tenantId),
      variant ?? 'none',
      (performance.now() - started) / 1000,
    );
  }

  /**
   * Tenant label value: the tenant's id if it has a label of their own, "other" for the rest
   * (unknown ids among them), "all" when per-tenant labels are off.
   */
  tenant(tenantId: string | undefined): string {
    if (!this.tenantLabels || !tenantId) return 'all';
    return this.labelled.has(tenantId) ? tenantId : 'other';
  }
}
