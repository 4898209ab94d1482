import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the API (GET /metrics). */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Histogram({
    name: 'osusume_http_request_duration_seconds',
    help: 'Request latency by route, status, tenant and experiment variant.',
    labelNames: ['route', 'status', 'tenant', 'variant'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
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
      { route, status: String(status), tenant: this.tenant(tenantId), variant: variant ?? 'none' },
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
