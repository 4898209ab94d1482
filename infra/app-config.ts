import { parseConfig } from '../core/config.js';
import type { StackConfig } from './config.js';

/**
 * Names that the infrastructure and the running containers must agree on, and the osusume
 * configuration document the containers receive (OSUSUME_CONFIG_YAML). It is validated here with
 * the application's own schema, so a mistake fails `pulumi preview`, not the first nightly run.
 */
export interface StackNames {
  dataset: string;
  rawLogsDataset: string;
  firestoreDatabase: string;
  bucket(purpose: 'artifacts' | 'models' | 'config'): string;
}

export function stackNames(config: StackConfig): StackNames {
  return {
    dataset: `osusume_${config.environment}`,
    rawLogsDataset: `osusume_${config.environment}_logs_raw`,
    firestoreDatabase: `osusume-${config.environment}`,
    bucket: (purpose) => `${config.project}-osusume-${config.environment}-${purpose}`,
  };
}

/** Where the containers see the buckets (Cloud Run volume mounts) and the secrets. */
export const MOUNTS = {
  artifacts: '/mnt/artifacts',
  models: '/mnt/models',
  config: '/mnt/config',
  apiKeys: '/secrets/api-keys',
  temporalCert: '/secrets/temporal-cert',
  temporalKey: '/secrets/temporal-key',
} as const;

export const EXPERIMENTS_OBJECT = 'experiments.yaml';

export function appConfigDocument(config: StackConfig, names: StackNames): Record<string, unknown> {
  const mtls = config.temporal.auth === 'mtls';
  const document = {
    warehouse: {
      kind: 'bigquery',
      projectId: config.project,
      dataset: names.dataset,
      location: config.dataLocation,
    },
    store: { kind: 'firestore', projectId: config.project, databaseId: names.firestoreDatabase },
    artifactsDir: MOUNTS.artifacts,
    experimentsFile: `${MOUNTS.config}/${EXPERIMENTS_OBJECT}`,
    model: { dir: MOUNTS.models },
    api: { logSink: 'stdout', keysFile: `${MOUNTS.apiKeys}/keys.json` },
    temporal: {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      ...(mtls
        ? {
            tlsCertFile: `${MOUNTS.temporalCert}/client.pem`,
            tlsKeyFile: `${MOUNTS.temporalKey}/client.key`,
          }
        : {}),
    },
  };
  parseConfig(document, '/', `the osusume configuration generated for stack ${config.environment}`);
  return document;
}
