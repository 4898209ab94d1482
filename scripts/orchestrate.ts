/**
 * Runs one batch on Temporal when it can: the server at TEMPORAL_ADDRESS, else a Temporal dev
 * server with its Web UI (scripts/temporal-dev-server.ts). Returns the reason when neither is
 * possible: the caller then runs the same flow in process.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import { freePort, probeAddress } from '../core/net.js';
import { connectTemporal } from '../core/temporal.js';
import type { BatchReport } from '../activities/alert.js';
import type { batchWorkflow } from '../workflows/batch.js';
import { batchWorkflowId } from '../workflows/ids.js';
import { batchOptions } from './temporal.js';
import { startDevServer } from './temporal-dev-server.js';
import { createWorker, installTemporalLogging } from './worker.js';

const DEV_UI_PORT = 8233;

interface Temporal {
  description: string;
  client: Client;
  connection: NativeConnection;
  uiUrl?: string;
  teardown(): Promise<void>;
}

/**
 * `preferred` (8233, where Temporal's docs and the README look for the dev server's UI) when
 * nothing listens there, else a free port: a dev server of the user's own often has 8233 already,
 * and the CLI would then refuse to start at all. The demo prints the UI's address either way.
 */
async function uiPortFree(preferred: number): Promise<number> {
  const taken = (await probeAddress(`127.0.0.1:${preferred}`, preferred)) === null;
  return taken ? freePort() : preferred;
}

async function reachTemporal(
  config: Config,
  env: NodeJS.ProcessEnv,
  uiPort = DEV_UI_PORT,
): Promise<Temporal | { unavailable: string }> {
  if (env.TEMPORAL_ADDRESS) {
    const clientConnection = await connectTemporal(config, (o) => Connection.connect(o), env);
    const connection = await connectTemporal(config, (o) => NativeConnection.connect(o), env);
    return {
      description: `the Temporal server at ${config.temporal.address}`,
      client: new Client({ connection: clientConnection, namespace: config.temporal.namespace }),
      connection,
      teardown: async () => {
        await connection.close();
        await clientConnection.close();
      },
    };
  }
  try {
    const dev = await startDevServer({
      ui: true,
      uiPort: await uiPortFree(uiPort),
      namespace: config.temporal.namespace,
    });
    return {
      description: `a Temporal dev server started for this run (${dev.address})`,
      client: dev.env.client,
      connection: dev.env.nativeConnection,
      uiUrl: dev.uiUrl,
      teardown: () => dev.teardown(),
    };
  } catch (error) {
    // Ends with the error message's own period: the demo prints it as it is.
    return { unavailable: `TEMPORAL_ADDRESS is not set. ${errorMessage(error)}` };
  }
}

/**
 * Waits for Ctrl+C. A signal listener alone does not keep Node running: once the worker has
 * stopped, the process would exit at once and take the dev server with it.
 */
export function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const hold = setInterval(() => {}, 60_000);
    process.once('SIGINT', () => {
      clearInterval(hold);
      resolve();
    });
  });
}

export type TemporalRun =
  | {
      report: BatchReport;
      description: string;
      workflowUrl?: string;
      /** With keepServer, the dev server started for the run is up until this stops it. */
      stopServer?: () => Promise<void>;
    }
  | { unavailable: string };

/**
 * `keepServer` leaves a dev server started for the run up (its UI can be explored) until the
 * caller, done with its own output, calls `stopServer`.
 */
export async function runBatchOnTemporal(
  config: Config,
  runId: string,
  options: { keepServer?: boolean; env?: NodeJS.ProcessEnv; uiPort?: number } = {},
): Promise<TemporalRun> {
  installTemporalLogging('WARN');
  const temporal = await reachTemporal(config, options.env ?? process.env, options.uiPort);
  if ('unavailable' in temporal) return temporal;
  const { worker, close } = await createWorker(config, temporal.connection);
  const workflowId = batchWorkflowId(runId);
  const workflowUrl =
    temporal.uiUrl &&
    `${temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
  let kept = false;
  try {
    if (temporal.uiUrl) console.log(`Temporal UI: ${temporal.uiUrl}`);
    const report = await worker.runUntil(
      temporal.client.workflow.execute<typeof batchWorkflow>('batchWorkflow', {
        workflowId,
        taskQueue: config.temporal.taskQueue,
        args: [{ runId, options: batchOptions(config) }],
      }),
    );
    const run = { report, description: temporal.description, workflowUrl };
    if (options.keepServer && temporal.uiUrl) {
      kept = true;
      return { ...run, stopServer: () => temporal.teardown() };
    }
    return run;
  } finally {
    await close();
    if (!kept) await temporal.teardown();
  }
}
