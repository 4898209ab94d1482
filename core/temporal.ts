import { readFileSync } from 'node:fs';
import type { Config } from './config.js';
import { ConfigError, errorMessage } from './errors.js';
import { probeAddress } from './net.js';

/**
 * How to reach Temporal, from configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, and for
 * Temporal Cloud either mTLS files TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY or TEMPORAL_API_KEY).
 * The same options fit the client's Connection and the worker's NativeConnection.
 */
export interface TemporalConnectionOptions {
  address: string;
  tls?: { clientCertPair: { crt: Buffer; key: Buffer } } | true;
  apiKey?: string;
}

export function temporalConnectionOptions(
  config: Pick<Config, 'temporal'>,
): TemporalConnectionOptions {
  const t = config.temporal;
  if (Boolean(t.tlsCertFile) !== Boolean(t.tlsKeyFile)) {
    throw new ConfigError(
      'Set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (client certificate and key files), or neither.',
    );
  }
  const read = (file: string, what: string, variable: string, key: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(
        `Cannot read the Temporal ${what} ${file}: ${(error as Error).message}. ` +
          `Set ${variable} (or temporal.${key} of the configuration) to the path of its PEM file.`,
      );
    }
  };
  if (t.tlsCertFile && t.tlsKeyFile) {
    return {
      address: t.address,
      tls: {
        clientCertPair: {
          crt: read(t.tlsCertFile, 'client certificate', 'TEMPORAL_TLS_CERT', 'tlsCertFile'),
          key: read(t.tlsKeyFile, 'client key', 'TEMPORAL_TLS_KEY', 'tlsKeyFile'),
        },
      },
    };
  }
  // API keys are only accepted over TLS.
  if (t.apiKey) return { address: t.address, tls: true, apiKey: t.apiKey };
  return { address: t.address };
}

/** Temporal's port, where an address names none. */
const TEMPORAL_PORT = 7233;

/** Where the address came from and the namespace, for the messages below. */
function addressOrigin(config: Pick<Config, 'temporal'>, env: NodeJS.ProcessEnv): string {
  const origin = env.TEMPORAL_ADDRESS
    ? 'from TEMPORAL_ADDRESS'
    : 'TEMPORAL_ADDRESS is unset, so this is temporal.address of the configuration';
  return `${origin}; namespace ${config.temporal.namespace}`;
}

/** What to do when Temporal at the configured address cannot be reached. */
function unreachableMessage(
  config: Pick<Config, 'temporal'>,
  reason: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return (
    `Cannot reach Temporal at ${config.temporal.address} (${addressOrigin(config, env)}): ${reason}. ` +
    'Start a server there (`temporal server start-dev`; `npm run setup` puts that CLI in .osusume/bin/), or set TEMPORAL_ADDRESS (and ' +
    'TEMPORAL_NAMESPACE, TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY or TEMPORAL_API_KEY) to your deployment.'
  );
}

/**
 * What to do when something accepts TCP connections at the address but the SDK's connection
 * fails: not a server to start, but another port (a dev server's Web UI, 8233, is a common
 * slip) or TLS on one side only.
 */
function notTemporalMessage(
  config: Pick<Config, 'temporal'>,
  options: TemporalConnectionOptions,
  reason: string,
  env: NodeJS.ProcessEnv,
): string {
  const over = !options.tls
    ? 'without TLS'
    : options.apiKey
      ? 'over TLS with an API key'
      : 'over TLS with a client certificate';
  return (
    `Cannot connect to Temporal at ${config.temporal.address} (${addressOrigin(config, env)}): ` +
    `something accepts connections there, but a Temporal connection ${over} failed: ${reason}. ` +
    "Check the port (Temporal's gRPC port, 7233 on a dev server, not its Web UI's 8233) and TLS: " +
    "Temporal Cloud needs TLS (TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY or TEMPORAL_API_KEY, the namespace's own), a dev server takes none."
  );
}

/**
 * Connects with `connect` (the client's Connection or the worker's NativeConnection) after a
 * quick TCP check, so that an unreachable server is reported at once, naming the address and
 * where it came from, instead of after the SDK's deadline or as a raw transport error.
 */
export async function connectTemporal<T extends NamespaceService>(
  config: Pick<Config, 'temporal'>,
  connect: (options: TemporalConnectionOptions) => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const options = temporalConnectionOptions(config);
  const unreachable = await probeAddress(options.address, TEMPORAL_PORT);
  if (unreachable) throw new ConfigError(unreachableMessage(config, unreachable, env));
  let connection: T;
  try {
    connection = await connect(options);
  } catch (error) {
    // The worker's connection appends its transport's debug form (", source: tonic::...").
    const reason = errorMessage(error).replace(/, source: [\s\S]*$/, '');
    throw new ConfigError(notTemporalMessage(config, options, reason, env), { cause: error });
  }
  try {
    await requireNamespace(connection, config);
  } catch (error) {
    await connection.close();
    throw error;
  }
  return connection;
}

/** What connectTemporal needs of the client's Connection and the worker's NativeConnection. */
interface NamespaceService {
  workflowService: { describeNamespace(request: { namespace: string }): Promise<unknown> };
  close(): Promise<void>;
}

/** A missing namespace otherwise surfaces later, as a gRPC status dump from the first call. */
async function requireNamespace(
  connection: NamespaceService,
  config: Pick<Config, 'temporal'>,
): Promise<void> {
  const { namespace, address } = config.temporal;
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (error) {
    // gRPC status 5: NOT_FOUND (both SDK connections report it as `code`).
    if ((error as { code?: unknown }).code !== 5) throw error;
    throw new ConfigError(
      `Namespace "${namespace}" does not exist on the Temporal server at ${address} (TEMPORAL_NAMESPACE). ` +
        `Create it (temporal operator namespace create --namespace ${namespace}) or set TEMPORAL_NAMESPACE to an existing namespace.`,
      { cause: error },
    );
  }
}
