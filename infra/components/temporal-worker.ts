import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { MOUNTS } from '../app-config.js';
import type { StackConfig } from '../config.js';
import { Grants } from './iam.js';
import { runtimeAccount, volumesFor, type Mount, type RuntimeArgs } from './runtime.js';
import type { Warehouse } from './warehouse.js';

export interface TemporalWorkerArgs extends RuntimeArgs {
  poolName: string;
  settings: StackConfig['worker'];
  temporalAuth: StackConfig['temporal']['auth'];
  warehouse: Warehouse;
  buckets: {
    artifacts: gcp.storage.Bucket;
    models: gcp.storage.Bucket;
    config: gcp.storage.Bucket;
  };
}

/**
 * The Temporal worker on a Cloud Run worker pool: a long-running poller with no HTTP port, which is
 * what worker pools are for (a service would need a fake port and would scale on requests it never
 * gets). It reads the warehouse, writes run records, lists and artifacts, and reads the models.
 */
export class TemporalWorker extends pulumi.ComponentResource {
  readonly pool: gcp.cloudrunv2.WorkerPool;
  readonly account: gcp.serviceaccount.Account;

  constructor(name: string, args: TemporalWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('osusume:runtime:TemporalWorker', name, {}, opts);
    this.account = runtimeAccount(
      name,
      args.poolName,
      'osusume Temporal worker (Cloud Run worker pool)',
      this,
    );
    const grants = new Grants(name, this.account, this);
    grants.project('bigquery-jobs', args.project, 'roles/bigquery.jobUser');
    grants.dataset(
      'reads-warehouse',
      args.warehouse.dataset.datasetId,
      'roles/bigquery.dataViewer',
    );
    grants.table(
      'writes-run-records',
      args.warehouse.tables.run_records!,
      'roles/bigquery.dataEditor',
    );
    grants.firestore(args.project, args.firestoreDatabase);
    grants.bucket('writes-artifacts', args.buckets.artifacts, 'roles/storage.objectAdmin');
    grants.bucket('reads-models', args.buckets.models, 'roles/storage.objectViewer');
    grants.bucket('reads-config', args.buckets.config, 'roles/storage.objectViewer');

    const mounts: Mount[] = [
      {
        name: 'artifacts',
        path: MOUNTS.artifacts,
        bucket: args.buckets.artifacts.name,
        readOnly: false,
      },
      { name: 'models', path: MOUNTS.models, bucket: args.buckets.models.name, readOnly: true },
      { name: 'config', path: MOUNTS.config, bucket: args.buckets.config.name, readOnly: true },
    ];
    const envs: gcp.types.input.cloudrunv2.WorkerPoolTemplateContainerEnv[] = [
      { name: 'OSUSUME_CONFIG_YAML', value: JSON.stringify(args.appConfig) },
    ];
    if (args.temporalAuth === 'mtls') {
      for (const key of ['temporal-tls-cert', 'temporal-tls-key']) grants.secret(args.secrets, key);
      mounts.push(
        {
          name: 'temporal-cert',
          path: MOUNTS.temporalCert,
          secret: args.secrets.secrets['temporal-tls-cert']!.secretId,
          file: 'client.pem',
        },
        {
          name: 'temporal-key',
          path: MOUNTS.temporalKey,
          secret: args.secrets.secrets['temporal-tls-key']!.secretId,
          file: 'client.key',
        },
      );
    } else {
      grants.secret(args.secrets, 'temporal-api-key');
      envs.push({
        name: 'TEMPORAL_API_KEY',
        valueSource: {
          secretKeyRef: {
            secret: args.secrets.secrets['temporal-api-key']!.secretId,
            version: 'latest',
          },
        },
      });
    }
    const { volumes, volumeMounts } = volumesFor(mounts);
    this.pool = new gcp.cloudrunv2.WorkerPool(
      name,
      {
        name: args.poolName,
        location: args.region,
        deletionProtection: false,
        labels: args.labels,
        scaling: { scalingMode: 'MANUAL', manualInstanceCount: args.settings.instances },
        template: {
          serviceAccount: this.account.email,
          labels: args.labels,
          volumes,
          containers: [
            {
              image: args.image,
              resources: { limits: { cpu: args.settings.cpu, memory: args.settings.memory } },
              envs,
              volumeMounts,
            },
          ],
        },
      },
      { parent: this, dependsOn: grants.resources },
    );
    this.registerOutputs({ pool: this.pool.name });
  }
}
