/**
 * The Temporal worker: runs osusume's workflows and activities on the configured task queue.
 *   osusume worker        (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, TLS or API key from env)
 * SIGINT/SIGTERM stop polling and let running activities finish for temporal.shutdownGraceTime
 * (5 s), then cancel them (each attempt fails and is retried elsewhere) and exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogEntry,
  type LogLevel,
  type WorkerInterceptors,
  type WorkflowBundle,
} from '@temporalio/worker';
import { openContext, type StepContext } from '../activities/context.js';
import { createActivities } from '../activities/temporal.js';
import { configuredModelDir } from '../activities/tenant-model.js';
import { loadConfig, type Config } from '../core/config.js';
import { log } from '../core/log.js';
import { connectTemporal } from '../core/temporal.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** A Temporal SDK log entry written by osusume's logger (one format, one OSUSUME_LOG_LEVEL). */
function writeSdkEntry(entry: LogEntry): void {
  const fields = { sdk: true, ...entry.meta };
  if (entry.level === 'ERROR') log.error(entry.message, fields);
  else if (entry.level === 'WARN') log.warn(entry.message, fields);
  else if (entry.level === 'INFO') log.info(entry.message, fields);
  else log.debug(entry.message, fields);
}

/**
 * Sends the Temporal SDK's own log lines through osusume's logger from `minimum` up: a worker
 * keeps its state changes (INFO), a batch run from the command line only what needs attention.
 * Call it once, before the first connection (which starts the SDK's runtime).
 */
export function installTemporalLogging(minimum: LogLevel): void {
  Runtime.install({ logger: new DefaultLogger(minimum, writeSdkEntry) });
}

/**
 * The workflow code bundled once per worker, with warnings kept and webpack's module summary (an
 * INFO entry of some thirty lines) left out.
 */
function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: new DefaultLogger('WARN', writeSdkEntry),
  });
}

/**
 * What a test or benchmark may add: a workflow bundle built once (bundleWorkflowCode) instead of
 * one per worker, and interceptors (fault injection).
 */
export interface WorkerExtras {
  workflowBundle?: WorkflowBundle;
  interceptors?: WorkerInterceptors;
}

/** A worker over one lazily opened StepContext; `close` releases it after the worker stops. */
export async function createWorker(
  config: Config,
  connection: NativeConnection,
  extras: WorkerExtras = {},
): Promise<{ worker: Worker; close: () => Promise<void> }> {
  // As the local batch does: a model.dir that is not there stops the worker at once, instead of
  // failing every tenant that embeds.
  configuredModelDir(config.model);
  let context: Promise<StepContext> | undefined;
  const getContext = () => (context ??= openContext(config));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: extras.workflowBundle ?? (await bundleWorkflows()),
    interceptors: extras.interceptors,
    activities: createActivities(getContext),
    maxConcurrentActivityTaskExecutions: config.temporal.maxConcurrentActivities,
    // Cloud Run sends SIGTERM, then SIGKILL 10 s later (container contract, instance shutdown:
    // https://cloud.google.com/run/docs/container-contract; "Graceful shutdowns on Cloud Run",
    // https://cloud.google.com/blog/topics/developers-practitioners/graceful-shutdowns-cloud-run-deep-dive);
    // we found no longer period documented for worker pools. Past the grace the SDK cancels the
    // running steps: their attempts fail and are retried on another worker before the kill,
    // where a killed worker's steps would wait out their heartbeat timeout (2 min).
    shutdownGraceTime: config.temporal.shutdownGraceTime,
  });
  return { worker, close: async () => (await context)?.close() };
}

export async function workerCommand(): Promise<void> {
  const config = loadConfig();
  installTemporalLogging('INFO');
  const connection = await connectTemporal(config, (o) => NativeConnection.connect(o));
  const { worker, close } = await createWorker(config, connection);
  log.info('worker started', {
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
  });
  try {
    await worker.run();
  } finally {
    await close();
    await connection.close();
    log.info('worker stopped');
  }
}

/**
 * `osusume worker` as its own process (so that it can be SIGKILLed), with its output collected;
 * `rawConfig` reaches it as OSUSUME_CONFIG_YAML. Its Temporal identity is `<pid>@<host>`.
 */
export function spawnWorker(
  server: { address: string; namespace: string },
  rawConfig: object,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./cli.ts', import.meta.url)), 'worker'],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: server.namespace,
        OSUSUME_CONFIG_YAML: JSON.stringify(rawConfig),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}
