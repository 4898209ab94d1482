/**
 * What `osusume fault-inject` kills: the local batch (a child process per run) or the Temporal
 * worker running a batch workflow on a dev server. Both measure where the steps of a run fall
 * (its first, uninterrupted run), kill at a moment chosen from that, and complete the killed run:
 * the batch by re-running its id, Temporal by starting a new worker that retries the
 * interrupted steps.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import type { Config } from '../core/config.js';
import type { BatchReport } from '../activities/alert.js';
import type { batchWorkflow } from '../workflows/batch.js';
import { batchWorkflowId, tenantWorkflowId } from '../workflows/ids.js';
import type { DevServer } from './temporal-dev-server.js';
import { batchOptions } from './temporal.js';
import { spawnWorker } from './worker.js';

/** Where a run's steps fall: the time before the first step, and how long each step took. */
export interface Timeline {
  startMs: number;
  runMs: number;
  steps: Map<string, number>;
}

/** Kill after `afterMs` (from the start of the run), or `delayMs` after `atStep` starts. */
export type Kill = { afterMs: number } | { atStep: string; delayMs: number };

export interface Outcome {
  ok: boolean;
  /** What went wrong, when not ok. */
  detail: string;
}

export interface Target {
  /** A run that must complete; the first one also measures the timeline. */
  run(runId: string): Promise<Outcome>;
  timeline(): Timeline;
  /** Starts `runId` and kills it as `kill` says: the step it interrupted, or null when it finished first. */
  inject(runId: string, kill: Kill): Promise<string | null>;
  /** Completes the killed run. */
  recover(runId: string): Promise<Outcome>;
  /** Steps that Temporal retried because their worker stopped heartbeating (0 for the batch). */
  retriedSteps(): number;
  close(): Promise<void>;
}

/** Sorts before the harness's run ids (r0000...), so that it is the oldest version. */
const WARM_UP_RUN = 'q0000';
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

interface BatchRun {
  code: number | null;
  killed: boolean;
  lastStep: string;
  stderr: string;
  /** Each step line: the step and when it was printed (ms since the spawn). */
  lines: { tenant: string; step: string; atMs: number }[];
  ms: number;
}

/** The local batch in a child process, killed as `kill` decides from its progress lines. */
function runBatch(configFile: string, runId: string, kill?: Kill): Promise<BatchRun> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'batch', '--run-id', runId], {
      // `--import tsx` resolves from the working folder: the checkout's, wherever this was started.
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, OSUSUME_CONFIG: configFile, CI: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let lastStep = 'start';
    let killed = false;
    const lines: BatchRun['lines'] = [];
    const killNow = () => {
      if (child.exitCode !== null || killed) return;
      killed = child.kill('SIGKILL');
    };
    if (kill && 'afterMs' in kill) setTimeout(killNow, kill.afterMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // "  acme: storeLists" when a step starts, "[2/3] acme: done ..." when the tenant ends.
      for (const m of chunk.toString().matchAll(/^(?: {2}|\[\d+\/\d+\] )(\S+): (\w+)/gm)) {
        lines.push({ tenant: m[1]!, step: m[2]!, atMs: Date.now() - started });
        if (!killed) lastStep = m[2]!;
        if (kill && 'atStep' in kill && kill.atStep === m[2]) setTimeout(killNow, kill.delayMs);
      }
    });
    child.on('exit', (code) =>
      resolve({ code, killed, lastStep, stderr, lines, ms: Date.now() - started }),
    );
  });
}

/** Each step lasts until the tenant's next line (its next step, or its end). */
function batchTimeline(run: BatchRun): Timeline {
  const steps = new Map<string, number>();
  run.lines.forEach((line, i) => {
    const next = run.lines.slice(i + 1).find((l) => l.tenant === line.tenant);
    if (!next) return;
    steps.set(line.step, Math.max(steps.get(line.step) ?? 0, next.atMs - line.atMs));
  });
  steps.delete('done');
  return { startMs: run.lines[0]?.atMs ?? run.ms, runMs: run.ms, steps };
}

export function batchTarget(configFile: string): Target {
  let timeline: Timeline | undefined;
  const outcome = (run: BatchRun): Outcome => ({
    ok: run.code === 0,
    detail: run.stderr.slice(-500),
  });
  return {
    run: async (runId) => {
      const run = await runBatch(configFile, runId);
      timeline ??= batchTimeline(run);
      return outcome(run);
    },
    timeline: () => timeline!,
    inject: async (runId, kill) => {
      const run = await runBatch(configFile, runId, kill);
      return run.killed ? run.lastStep : null;
    },
    recover: async (runId) => outcome(await runBatch(configFile, runId)),
    retriedSteps: () => 0,
    close: async () => {},
  };
}

const { temporal } = proto; // CommonJS: no named exports under Node's ESM loader
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
const HEARTBEAT = temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT;

function eventMs(event: proto.temporal.api.history.v1.IHistoryEvent): number {
  const t = event.eventTime!;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

/**
 * Temporal workers on a dev server, one at a time: the kill stops all progress until the next
 * worker starts, so what the checker sees after a kill cannot move under it.
 */
export function temporalTarget(
  server: DevServer,
  config: Config,
  rawConfig: object,
  tenants: string[],
): Target {
  let worker: ReturnType<typeof spawnWorker> | undefined;
  let pending: WorkflowHandle<typeof batchWorkflow> | undefined;
  let timeline: Timeline | undefined;
  let retried = 0;
  const client = server.env.client;

  const ensureWorker = async () => {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) return worker;
    const next = spawnWorker(server, rawConfig);
    for (let waited = 0; !next.output().includes('worker started'); waited += 100) {
      if (next.child.exitCode !== null || waited > 180_000)
        throw new Error(`The Temporal worker did not start:\n${next.output().slice(-1000)}`);
      await sleep(100);
    }
    return (worker = next);
  };

  const start = (runId: string) =>
    client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      workflowId: batchWorkflowId(runId),
      taskQueue: config.temporal.taskQueue,
      args: [{ runId, options: batchOptions(config) }],
    });

  /** The run's batch workflow, then its tenant workflows. */
  const workflowIds = (runId: string) => [
    batchWorkflowId(runId),
    ...tenants.map((t) => tenantWorkflowId(runId, t)),
  ];

  const histories = async (runId: string) =>
    Promise.all(
      workflowIds(runId).map(
        async (id) => (await client.workflow.getHandle(id).fetchHistory()).events!,
      ),
    );

  /** Activities (by type) of the run's workflows that a worker has started and not finished. */
  const runningSteps = async (runId: string): Promise<string[]> => {
    const described = await Promise.all(
      workflowIds(runId).map(
        (id) =>
          client.workflow
            .getHandle(id)
            .describe()
            .catch(() => null), // a tenant workflow not started yet
      ),
    );
    return described.flatMap((d) =>
      (d?.raw.pendingActivities ?? [])
        .filter((a) => a.state === STARTED)
        .map((a) => a.activityType!.name!),
    );
  };

  const finish = async (runId: string, handle: WorkflowHandle<typeof batchWorkflow>) => {
    let report: BatchReport;
    try {
      report = await handle.result();
    } catch (error) {
      return { ok: false, detail: String(error) };
    }
    for (const events of await histories(runId))
      retried += events.filter(
        (e) =>
          e.activityTaskStartedEventAttributes?.lastFailure?.timeoutFailureInfo?.timeoutType ===
          HEARTBEAT,
      ).length;
    const ok = report.succeeded + report.skipped === tenants.length;
    return { ok, detail: JSON.stringify(report.failed) };
  };

  /** From the first run's histories: the first tenant step's start, and each activity's duration. */
  const measure = async (runId: string): Promise<Timeline> => {
    const all = await histories(runId);
    const begin = eventMs(all[0]![0]!);
    const end = Math.max(...all.flat().map(eventMs));
    const steps = new Map<string, number>();
    let firstStep = end;
    for (const events of all) {
      const byId = new Map(events.map((e) => [String(e.eventId), e]));
      for (const e of events) {
        const done = e.activityTaskCompletedEventAttributes;
        if (!done) continue;
        const scheduled = byId.get(String(done.scheduledEventId))!;
        const startedEvent = byId.get(String(done.startedEventId))!;
        const type = scheduled.activityTaskScheduledEventAttributes!.activityType!.name!;
        steps.set(type, Math.max(steps.get(type) ?? 0, eventMs(e) - eventMs(startedEvent)));
        if (events !== all[0]) firstStep = Math.min(firstStep, eventMs(startedEvent));
      }
    }
    return { startMs: firstStep - begin, runMs: end - begin, steps };
  };

  return {
    run: async (runId) => {
      await ensureWorker();
      // A new worker's first run is slower than the later ones (it opens the warehouse and the
      // store, loads models): kills timed on it came after the run had finished. So the first
      // run is preceded by a warm-up run (its version, older, is collected like any other).
      if (!timeline) {
        const warmUp = await finish(WARM_UP_RUN, await start(WARM_UP_RUN));
        if (!warmUp.ok) return warmUp;
      }
      const outcome = await finish(runId, await start(runId));
      timeline ??= await measure(runId);
      return outcome;
    },
    timeline: () => timeline!,
    inject: async (runId, kill) => {
      const victim = await ensureWorker();
      pending = await start(runId);
      const began = Date.now();
      let step = 'between steps';
      if ('afterMs' in kill) {
        await sleep(kill.afterMs);
        if ((await pending.describe()).status.name !== 'RUNNING') return null;
        step = (await runningSteps(runId))[0] ?? step;
      } else {
        for (;;) {
          if ((await runningSteps(runId)).includes(kill.atStep)) break;
          // The step never started: the run ended (or failed) before it.
          if (Date.now() - began > timeline!.runMs * 3 + 10_000) return null;
          await sleep(20);
        }
        await sleep(kill.delayMs);
        step = kill.atStep;
      }
      victim.child.kill('SIGKILL');
      await victim.exited;
      return step;
    },
    recover: async (runId) => {
      await ensureWorker();
      return finish(runId, pending ?? client.workflow.getHandle(batchWorkflowId(runId)));
    },
    retriedSteps: () => retried,
    close: async () => {
      if (worker && worker.child.exitCode === null) {
        worker.child.kill('SIGKILL');
        await worker.exited;
      }
    },
  };
}
