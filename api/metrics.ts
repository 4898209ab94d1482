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

  constructor(private readonly tenantLabels: boolean) {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Tenant label value, or "all" when per-tenant labels are off (many tenants). */
  tenant(tenantId: string | undefined): string {
    return this.tenantLabels && tenantId ? tenantId : 'all';
  }
}
