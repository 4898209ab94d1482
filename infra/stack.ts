import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { appConfigDocument, EXPERIMENTS_OBJECT, stackNames } from './app-config.js';
import { ApiService } from './components/api-service.js';
import { LogExport } from './components/log-export.js';
import { Monitoring } from './components/monitoring.js';
import { PrivateBucket } from './components/private-bucket.js';
import { Secrets } from './components/secrets.js';
import { TemporalWorker } from './components/temporal-worker.js';
import { Warehouse } from './components/warehouse.js';
import type { StackConfig, StackSecrets } from './config.js';
import { errorMessage } from '../core/errors.js';
import { parseExperiments } from '../core/experiments.js';

const EXPERIMENTS_FILE = fileURLToPath(new URL('../experiments.yaml', import.meta.url));

/**
 * Besides the services' own: Cloud Build for the images (README), Cloud Resource Manager for the
 * project-level grants, which a new project does not have enabled.
 */
const APIS = [
  'artifactregistry',
  'bigquery',
  'bigquerydatatransfer',
  'cloudbuild',
  'cloudresourcemanager',
  'firestore',
  'iam',
  'logging',
  'monitoring',
  'run',
  'secretmanager',
  'storage',
].map((api) => `${api}.googleapis.com`);

/**
 * The experiments file, checked before anything is deployed: an API instance refuses to start on
 * one with an error, so deploying it would take the API down as its instances are replaced, and
 * the next batch would stop at its plan.
 */
function checkedExperiments(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `Nothing was deployed: cannot read ${file} (${errorMessage(error)}), which every environment serves; restore it (git checkout experiments.yaml).`,
    );
  }
  try {
    parseExperiments(text, file);
  } catch (error) {
    throw new Error(
      `Nothing was deployed: ${errorMessage(error)} Check it with \`npm run validate\`, then run pulumi up again.`,
    );
  }
  return file;
}

/** The whole environment. Runtimes are created once their images are configured (README). */
export function createStack(
  config: StackConfig,
  secretValues: StackSecrets,
  experimentsFile = EXPERIMENTS_FILE,
) {
  const experiments = checkedExperiments(experimentsFile);
  const env = config.environment;
  const names = stackNames(config);
  const labels = { app: 'osusume', environment: env };
  const protect = config.protect;

  const apis = APIS.map(
    (service) =>
      new gcp.projects.Service(service, {
        project: config.project,
        service,
        disableOnDestroy: false,
      }),
  );
  const afterApis = { dependsOn: apis };

  const registry = new gcp.artifactregistry.Repository(
    'images',
    {
      repositoryId: `osusume-${env}`,
      location: config.region,
      format: 'DOCKER',
      description: 'osusume API and worker images',
      labels,
      cleanupPolicies: [
        { id: 'keep-recent', action: 'KEEP', mostRecentVersions: { keepCount: 20 } },
        { id: 'delete-old', action: 'DELETE', condition: { olderThan: `${90 * 86_400}s` } },
      ],
    },
    afterApis,
  );

  const warehouse = new Warehouse(
    'warehouse',
    {
      datasetId: names.dataset,
      location: config.dataLocation,
      labels,
      protect,
      postsViewQuery: config.postsViewQuery,
      logRetentionDays: config.logRetentionDays,
    },
    afterApis,
  );

  const firestore = new gcp.firestore.Database(
    'store',
    {
      name: names.firestoreDatabase,
      locationId: config.dataLocation,
      type: 'FIRESTORE_NATIVE',
      deleteProtectionState: protect ? 'DELETE_PROTECTION_ENABLED' : 'DELETE_PROTECTION_DISABLED',
      deletionPolicy: protect ? 'ABANDON' : 'DELETE',
    },
    { ...afterApis, protect },
  );

  const bucket = (
    purpose: 'artifacts' | 'models' | 'config',
    keepVersions: number,
    deleteAfterDays?: number,
  ) =>
    new PrivateBucket(
      purpose,
      {
        name: names.bucket(purpose),
        location: config.region,
        labels,
        protect,
        keepVersions,
        deleteAfterDays,
      },
      afterApis,
    ).bucket;
  const buckets = {
    artifacts: bucket('artifacts', 1, config.artifactRetentionDays),
    models: bucket('models', 5),
    config: bucket('config', 50),
  };
  // The experiments file: edit it in the repository and `pulumi up`; the API re-reads it in seconds.
  new gcp.storage.BucketObject('experiments', {
    bucket: buckets.config.name,
    name: EXPERIMENTS_OBJECT,
    source: new pulumi.asset.FileAsset(experiments),
    contentType: 'application/yaml',
  });

  const secrets = new Secrets(
    'secrets',
    {
      environment: env,
      labels,
      values: {
        'api-keys': secretValues.apiKeys,
        ...(config.temporal.auth === 'mtls'
          ? {
              'temporal-tls-cert': secretValues.temporalTlsCert,
              'temporal-tls-key': secretValues.temporalTlsKey,
            }
          : { 'temporal-api-key': secretValues.temporalApiKey }),
      },
    },
    afterApis,
  );

  const appConfig = appConfigDocument(config, names);
  const apiServiceName = `osusume-api-${env}`;
  const api = config.api.image
    ? new ApiService(
        'api',
        {
          serviceName: apiServiceName,
          project: config.project,
          region: config.region,
          image: config.api.image,
          settings: config.api,
          appConfig,
          firestoreDatabase: names.firestoreDatabase,
          configBucket: buckets.config,
          artifactsBucket: buckets.artifacts,
          warehouse,
          secrets,
          labels,
        },
        { dependsOn: [...apis, firestore] },
      )
    : undefined;

  new LogExport(
    'api-logs',
    {
      project: config.project,
      location: config.dataLocation,
      rawDatasetId: names.rawLogsDataset,
      apiServiceName,
      warehouse,
      labels,
    },
    afterApis,
  );

  const worker = config.worker.image
    ? new TemporalWorker(
        'worker',
        {
          poolName: `osusume-worker-${env}`,
          project: config.project,
          region: config.region,
          image: config.worker.image,
          settings: config.worker,
          temporalAuth: config.temporal.auth,
          appConfig,
          firestoreDatabase: names.firestoreDatabase,
          warehouse,
          buckets,
          secrets,
          labels,
        },
        { dependsOn: [...apis, firestore] },
      )
    : undefined;

  new Monitoring(
    'monitoring',
    {
      project: config.project,
      environment: env,
      alerts: config.alerts,
      slackAuthToken: secretValues.slackAuthToken,
      api: api ? { serviceName: api.service.name, url: api.service.uri } : undefined,
    },
    afterApis,
  );

  return {
    apiUrl: api
      ? api.service.uri
      : 'not deployed: set osusume:api.image (README, "Deploy to Google Cloud")',
    workerPool: worker ? worker.pool.name : 'not deployed: set osusume:worker.image',
    imageRepository: pulumi.interpolate`${config.region}-docker.pkg.dev/${config.project}/${registry.repositoryId}`,
    datasetId: warehouse.dataset.datasetId,
    rawLogsDatasetId: names.rawLogsDataset,
    firestoreDatabase: firestore.name,
    buckets: {
      artifacts: buckets.artifacts.name,
      models: buckets.models.name,
      config: buckets.config.name,
    },
    temporal: { address: config.temporal.address, namespace: config.temporal.namespace },
  };
}
