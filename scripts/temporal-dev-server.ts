/**
 * A Temporal dev server (the Temporal CLI's `server start-dev`: SQLite, with the Web UI) on free
 * ports, for the demo, the end-to-end tests and the orchestration benchmark. The CLI is the one
 * `scripts/setup/temporal.sh` linked as .osusume/bin/temporal (built with Go where the SDK cannot
 * download it); without that link the SDK downloads the CLI itself, which needs internet.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ConfigError, errorMessage } from '../core/errors.js';
import { freePort } from '../core/net.js';

const TEMPORAL_CLI_LINK = fileURLToPath(new URL('../.osusume/bin/temporal', import.meta.url));

export interface DevServerOptions {
  /** Serve the Web UI (on a free port unless `uiPort` is given). */
  ui?: boolean;
  uiPort?: number;
  /** SQLite file that keeps the server's state across restarts; in memory when absent. */
  dbFilename?: string;
  namespace?: string;
}

export interface DevServer {
  /** host:port of the frontend, for TEMPORAL_ADDRESS (e.g. a worker in another process). */
  address: string;
  namespace: string;
  uiUrl?: string;
  /** Client, Connection and NativeConnection connected to it. */
  env: TestWorkflowEnvironment;
  teardown(): Promise<void>;
}

/** Thrown when no dev server can be started; its message says what to do. */
class DevServerUnavailable extends ConfigError {}

function executable() {
  return existsSync(TEMPORAL_CLI_LINK)
    ? { type: 'existing-path' as const, path: TEMPORAL_CLI_LINK }
    : { type: 'cached-download' as const };
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const namespace = options.namespace ?? 'default';
  const uiPort = options.ui ? (options.uiPort ?? (await freePort())) : undefined;
  const cli = executable();
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: cli,
        namespace,
        port: await freePort(),
        ui: Boolean(options.ui),
        uiPort,
        dbFilename: options.dbFilename,
        // The CLI prints a banner (its version, the addresses) on the stdout it shares with this
        // process, which is command output; the callers print the addresses they use. Its errors
        // and warnings go to stderr, which this leaves as it is.
        extraArgs: ['--output', 'none'],
      },
    });
  } catch (error) {
    const tried =
      cli.type === 'existing-path'
        ? `the Temporal CLI ${TEMPORAL_CLI_LINK}`
        : "the SDK's download of the Temporal CLI";
    throw new DevServerUnavailable(
      `No Temporal dev server could be started with ${tried}: ${errorMessage(error).slice(0, 300)}\n` +
        "Run 'npm run setup' (it builds the Temporal CLI with Go where the SDK cannot download it), " +
        'or set TEMPORAL_ADDRESS to a running Temporal server.',
      { cause: error },
    );
  }
  return {
    address: env.address,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    env,
    teardown: () => env.teardown(),
  };
}
