/**
 * The API's request latency histogram (api/metrics.ts) is its own small implementation, for
 * speed: for any observations it must render exactly what prom-client's Histogram renders, as
 * exposition text and as JSON.
 */
import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestHistogram } from '../api/metrics.js';

const NAME = 'osusume_http_request_duration_seconds';
const HELP = 'Request latency by route, status, tenant and experiment variant.';
const BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const observation = fc.record({
  route: fc.constantFrom('/v1/tenants/:tenantId/posts/:postId/related', '/healthz', '/*'),
  status: fc.constantFrom('200', '400', '401', '500'),
  tenant: fc.constantFrom('acme', 'other', 'all', 'a"b\\c\nd'),
  variant: fc.constantFrom('none', 'a', 'holdout'),
  seconds: fc.oneof(
    fc.constantFrom(0, ...BUCKETS, 2, 1e-9, 0.1 + 0.2),
    fc.double({ min: 0, max: 5, noNaN: true }),
  ),
});

describe('the request latency histogram', () => {
  it("renders what prom-client's Histogram renders for the same observations (property-based)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 40 }), async (observations) => {
        const ours = new Registry();
        const theirs = new Registry();
        const histogram = new RequestHistogram(NAME, HELP, BUCKETS, ours);
        const reference = new Histogram({
          name: NAME,
          help: HELP,
          labelNames: ['route', 'status', 'tenant', 'variant'],
          buckets: BUCKETS,
          registers: [theirs],
        });
        for (const { route, status, tenant, variant, seconds } of observations) {
          histogram.observe(route, status, tenant, variant, seconds);
          reference.observe({ route, status, tenant, variant }, seconds);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
        expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
        ours.resetMetrics();
        theirs.resetMetrics();
        expect(await ours.metrics()).toBe(await theirs.metrics());
      }),
      { numRuns: 200 },
    );
  });

  it('turns down a value that is not a number, as prom-client does', () => {
    const histogram = new RequestHistogram(NAME, HELP, BUCKETS, new Registry());
    expect(() => histogram.observe('/', '200', 'all', 'none', Number.NaN)).toThrow(TypeError);
  });
});
