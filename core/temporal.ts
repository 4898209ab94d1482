import { readFileSync } from 'node:fs';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';

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
