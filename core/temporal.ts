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
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(
        `Cannot read the Temporal ${what} ${file}: ${(error as Error).message}`,
      );
    }
  };
  if (t.tlsCertFile && t.tlsKeyFile) {
    return {
      address: t.address,
      tls: {
        clientCertPair: {
          crt: read(t.tlsCertFile, 'client certificate'),
          key: read(t.tlsKeyFile, 'client key'),
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

/** What to do when Temporal at the configured address cannot be reached. */
function unreachableMessage(
  config: Pick<Config, 'temporal'>,
  reason: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const { address, namespace } = config.temporal;
  const origin = env.TEMPORAL_ADDRESS
    ? 'from TEMPORAL_ADDRESS'
    : 'TEMPORAL_ADDRESS is unset, so this is temporal.address of the configuration';
  return (
    `Cannot reach Temporal at ${address} (${origin}; namespace ${namespace}): ${reason}. ` +
    'Start a server there (`temporal server start-dev`; `npm run setup` puts that CLI in .osusume/bin/), or set TEMPORAL_ADDRESS (and ' +
    'TEMPORAL_NAMESPACE, TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY or TEMPORAL_API_KEY) to your deployment.'
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
    throw new ConfigError(unreachableMessage(config, errorMessage(error), env), { cause: error });
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
