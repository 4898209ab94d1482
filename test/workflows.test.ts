/**
 * Workflow logic without a server: @temporalio/workflow is replaced by fakes that run activities
 * and children in process and record every call (ids, options, concurrency, continue-as-new).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunPlan } from '../activities/plan.js';
import type { BatchReport } from '../activities/alert.js';
import { BadDataError, ConfigError } from '../core/errors.js';
import { ImmutableVersionError } from '../core/store/types.js';
import type { FailedRuns } from '../workflows/batch-flow.js';
import { heavySteps, quickSteps, writeSteps } from '../workflows/options.js';
import { stepResults } from './fixtures/step-results.js';

const calls = vi.hoisted(() => ({
  proxyOptions: [] as Record<string, unknown>[],
  activities: {} as Record<string, (...args: unknown[]) => Promise<unknown>>,
  children: [] as { workflowId: string; options: Record<string, unknown> }[],
  inFlight: 0,
  maxInFlight: 0,
  alreadyStarted: new Set<string>(),
  /** What patched() answers, and the patch ids it was asked about. */
  patched: true,
  patchesAsked: [] as string[],
}));

class ContinueAsNew extends Error {
  constructor(readonly args: unknown[]) {
    super('continue-as-new');
  }
}

vi.mock('@temporalio/workflow', async () => {
  const actual = await vi.importActual<typeof import('@temporalio/common')>('@temporalio/common');
  return {
    ApplicationFailure: actual.ApplicationFailure,
    ParentClosePolicy: { TERMINATE: 'TERMINATE' },
    WorkflowIdReusePolicy: { ALLOW_DUPLICATE_FAILED_ONLY: 'ALLOW_DUPLICATE_FAILED_ONLY' },
    workflowInfo: () => ({
      startTime: new Date('2026-11-22T18:00:00Z'),
      typedSearchAttributes: new actual.TypedSearchAttributes(),
    }),
    proxyActivities: (options: Record<string, unknown>) => {
      calls.proxyOptions.push(options);
      return new Proxy(
        {},
        {
          get:
            (_, name: string) =>
            (...args: unknown[]) =>
              calls.activities[name]!(...args),
        },
      );
    },
    executeChild: async (
      fn: (...a: unknown[]) => Promise<unknown>,
      options: { workflowId: string; args: unknown[] },
    ) => {
      calls.children.push({ workflowId: options.workflowId, options });
      if (calls.alreadyStarted.has(options.workflowId)) {
        throw new actual.WorkflowExecutionAlreadyStartedError(
          'already started',
          options.workflowId,
          fn.name,
        );
      }
      calls.inFlight += 1;
      calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
      try {
        await new Promise((r) => setTimeout(r, 0));
        return await fn(...options.args);
      } finally {
        calls.inFlight -= 1;
      }
    },
    patched: (patchId: string) => (calls.patchesAsked.push(patchId), calls.patched),
    continueAsNew: async (...args: unknown[]) => {
      throw new ContinueAsNew(args);
    },
  };
});

const { batchWorkflow } = await import('../workflows/batch.js');
const { tenantWorkflow } = await import('../workflows/tenant.js');

function fakeActivities(
  tenants: string[],
  options: { retired?: string[]; failing?: Record<string, Error> } = {},
) {
  const alerts: BatchReport[] = [];
  const purged: string[] = [];
  const recorded: FailedRuns[] = [];
  const plan: RunPlan = {
    tenantsUri: 'file:///plan',
    tenants: tenants.length,
    retired: options.retired ?? [],
    retiring: 0,
    invalidTenantIds: 0,
  };
  calls.activities = {
    planRun: async () => plan,
    readTenants: async (i) => {
      const { offset, limit } = i as { offset: number; limit: number };
      return tenants.slice(offset, offset + limit);
    },
    extract: async (i) => {
      const { tenantId } = i as { tenantId: string };
      if (options.failing?.[tenantId]) throw options.failing[tenantId];
      return { ...stepResults.extract, snapshotUri: `s/${tenantId}` };
    },
    popular: async () => stepResults.popular,
    embed: async () => stepResults.embed,
    neighbours: async () => stepResults.neighbours,
    storePopular: async () => undefined,
    storeLists: async () => stepResults.storeLists,
    activate: async () => stepResults.activate,
    purgeTenant: async (i) => void purged.push((i as { tenantId: string }).tenantId),
    recordFailedRuns: async (r) => void recorded.push(r as FailedRuns),
    alert: async (r) => void alerts.push(r as BatchReport),
  };
  return { alerts, purged, recorded };
}

/** Runs a batch to the end, following continue-as-new as the server would. */
async function runToEnd(
  input: Parameters<typeof batchWorkflow>[0],
): Promise<{ report: BatchReport; runs: number }> {
  let runs = 1;
  for (let next = input; ; runs++) {
    try {
      return { report: await batchWorkflow(next), runs };
    } catch (error) {
      if (!(error instanceof ContinueAsNew)) throw error;
      next = error.args[0] as typeof input;
    }
  }
}

beforeEach(() => {
  calls.children.length = 0;
  calls.maxInFlight = 0;
  calls.alreadyStarted.clear();
  calls.patched = true;
  calls.patchesAsked.length = 0;
});

describe('batch workflow', () => {
  it('starts one child per tenant with a deterministic id for the run date', async () => {
    fakeActivities(['acme', 'a/b', '東京']);
    const { report } = await runToEnd({});
    expect(report).toMatchObject({
      runId: '2026-11-22',
      tenants: 3,
      succeeded: 3,
      failedCount: 0,
      posts: 90,
      lists: 90,
    });
    expect(calls.children.map((c) => c.workflowId)).toEqual([
      'osusume-tenant/2026-11-22/acme',
      'osusume-tenant/2026-11-22/a%2Fb',
      `osusume-tenant/2026-11-22/${encodeURIComponent('東京')}`,
    ]);
    expect(calls.children[0]!.options).toMatchObject({
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      args: [{ tenantId: 'acme', runId: '2026-11-22' }],
    });
  });

  it("isolates a tenant's failure, reports its cause and alerts once", async () => {
    const bad = Object.assign(new Error('Tenant "b": none of its 3 rows is a valid post'), {
      name: 'BadDataError',
    });
    const { alerts } = fakeActivities(['a', 'b', 'c'], { failing: { b: bad } });
    const { report } = await runToEnd({ runId: 'r1' });
    expect(report).toMatchObject({
      succeeded: 2,
      failedCount: 1,
      failed: [{ tenantId: 'b', error: bad.message }],
    });
    expect(alerts).toHaveLength(1);
  });

  it("writes every failed tenant's run record, at most 100 a call, and names the first 100", async () => {
    const tenants = Array.from({ length: 250 }, (_, i) => `t${i}`);
    const bad = new Error('bad data');
    const { alerts, recorded } = fakeActivities(tenants, {
      failing: Object.fromEntries(tenants.map((t) => [t, bad])),
    });
    const { report, runs } = await runToEnd({ runId: 'r1', options: { tenantsPerSegment: 150 } });
    expect(runs).toBe(2);
    expect(recorded.map((r) => r.failed.length)).toEqual([100, 50, 100]);
    expect(new Set(recorded.flatMap((r) => r.failed.map((f) => f.tenantId)))).toEqual(
      new Set(tenants),
    );
    expect(report).toMatchObject({ failedCount: 250, failuresRecorded: true });
    expect(report.failed).toHaveLength(100);
    expect(alerts).toEqual([report]);
    // Asked once, when the batch began; the continued run follows the report's answer.
    expect(calls.patchesAsked).toEqual(['record-every-failure']);
  });

  it('leaves the recording to the alert in a batch begun before every failure was recorded', async () => {
    calls.patched = false;
    const { alerts, recorded } = fakeActivities(['a', 'b'], { failing: { a: new Error('x') } });
    const { report } = await runToEnd({ runId: 'r1' });
    expect(recorded).toEqual([]);
    expect(report.failuresRecorded).toBeUndefined();
    expect(alerts).toEqual([report]);
  });

  it('skips a tenant that already ran for this run id', async () => {
    fakeActivities(['a', 'b']);
    calls.alreadyStarted.add('osusume-tenant/r1/a');
    const { report } = await runToEnd({ runId: 'r1' });
    expect(report).toMatchObject({ succeeded: 1, skipped: 1, failedCount: 0 });
  });

  it('purges retired tenants through a purge child workflow and reports them', async () => {
    const { purged } = fakeActivities(['a'], { retired: ['gone/1'] });
    const { report } = await runToEnd({ runId: 'r1' });
    expect(purged).toEqual(['gone/1']);
    expect(calls.children[0]!.workflowId).toBe('osusume-purge/r1/gone%2F1');
    expect(report).toMatchObject({ purgedCount: 1, purged: ['gone/1'], succeeded: 1 });
  });

  it('scales to 10,000 tenants: bounded concurrency and continue-as-new per segment', async () => {
    const tenants = Array.from({ length: 10_000 }, (_, i) => `t${i}`);
    fakeActivities(tenants);
    const { report, runs } = await runToEnd({
      runId: 'r1',
      options: { maxConcurrentTenants: 50, tenantsPerSegment: 1000 },
    });
    expect(runs).toBe(10);
    expect(report).toMatchObject({ tenants: 10_000, succeeded: 10_000, segments: 10 });
    expect(calls.maxInFlight).toBe(50);
    expect(new Set(calls.children.map((c) => c.workflowId)).size).toBe(10_000);
  }, 60_000);

  it('refuses a concurrency above the pending-children limit', async () => {
    fakeActivities(['a']);
    await expect(batchWorkflow({ options: { maxConcurrentTenants: 5000 } })).rejects.toThrow(
      /under 2,000/,
    );
  });
});

describe('tenant workflow', () => {
  it('runs the steps in order with explicit retry policies and timeouts', async () => {
    fakeActivities(['a']);
    const order: string[] = [];
    const inner = { ...calls.activities };
    for (const name of Object.keys(inner))
      calls.activities[name] = (...a) => (order.push(name), inner[name]!(...a));
    const report = await tenantWorkflow({ tenantId: 'a', runId: 'r1' });
    expect(order).toEqual([
      'extract',
      'popular',
      'embed',
      'neighbours',
      'storePopular',
      'storeLists',
      'activate',
    ]);
    expect(report).toMatchObject({
      mode: 'lists',
      algorithms: ['embedding'],
      lists: 30,
      embedded: { computed: 30 },
    });
    for (const options of calls.proxyOptions) {
      expect(options.startToCloseTimeout).toBeDefined();
      expect((options.retry as { maximumAttempts: number }).maximumAttempts).toBeGreaterThan(0);
    }
    const heavy = calls.proxyOptions.find((o) => o.heartbeatTimeout);
    expect(heavy).toMatchObject({
      heartbeatTimeout: '2m',
      retry: { nonRetryableErrorTypes: ['BadDataError', 'ConfigError', 'ImmutableVersionError'] },
    });
  });

  it('fails at once on bad data and bad configuration, whichever subclass throws it', () => {
    // A write into an activated version (a Reset of a finished run in the UI) is bad data too.
    const errors = [
      new BadDataError('x'),
      new ConfigError('x'),
      new ImmutableVersionError('t', 'v'),
    ];
    for (const options of [quickSteps, heavySteps, writeSteps])
      for (const error of errors)
        expect(options.retry?.nonRetryableErrorTypes).toContain(error.name);
  });

  it('small tenants get popularity lists and skip embedding', async () => {
    fakeActivities(['a']);
    const extract = calls.activities.extract!;
    calls.activities.extract = async (i) => ({
      ...((await extract(i)) as object),
      mode: 'popular',
    });
    calls.activities.popular = async () => ({
      popularUri: 'p',
      listsUri: 'lp',
      interactions: 0,
      skippedInteractions: 0,
    });
    calls.activities.embed = async () => {
      throw new Error('must not embed');
    };
    const stored: unknown[] = [];
    calls.activities.storeLists = async (i) => (stored.push(i), 3);
    const report = await tenantWorkflow({ tenantId: 'a', runId: 'r1' });
    expect(report.mode).toBe('popular');
    expect(stored).toEqual([
      { tenantId: 'a', version: 'r1', algorithm: 'popular', listsUri: 'lp' },
    ]);
  });
});
