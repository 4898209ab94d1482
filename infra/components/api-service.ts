import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { MOUNTS } from '../app-config.js';
import type { StackConfig } from '../config.js';
import { Grants } from './iam.js';
import { runtimeAccount, volumesFor, type RuntimeArgs } from './runtime.js';
import type { Warehouse } from './warehouse.js';

export interface ApiServiceArgs extends RuntimeArgs {
  serviceName: string;
  settings: StackConfig['api'];
  configBucket: gcp.storage.Bucket;
  /** Read only: the result viewer shows titles from the active version's snapshot artifact. */
  artifactsBucket: gcp.storage.Bucket;
  /** The result viewer's report reads the exposure and outcome logs (core/results.ts). */
  warehouse: Warehouse;
}

/**
 * The serving API on Cloud Run. Its service account may read and write the one Firestore database
 * (lists, hidden posts), read the experiments file, the run artifacts (the result viewer's titles),
 * the exposure and outcome logs (the result viewer's report) and its API keys secret; nothing else.
 */
export class ApiService extends pulumi.ComponentResource {
  readonly service: gcp.cloudrunv2.Service;
  readonly account: gcp.serviceaccount.Account;

  constructor(name: string, args: ApiServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('osusume:runtime:ApiService', name, {}, opts);
    this.account = runtimeAccount(name, args.serviceName, 'osusume API (Cloud Run)', this);
    const grants = new Grants(name, this.account, this);
    grants.firestore(args.project, args.firestoreDatabase);
    grants.bucket('reads-config', args.configBucket, 'roles/storage.objectViewer');
    grants.bucket('reads-artifacts', args.artifactsBucket, 'roles/storage.objectViewer');
    grants.project('bigquery-jobs', args.project, 'roles/bigquery.jobUser');
    for (const log of ['exposure_log', 'outcome_log'])
      grants.table(`reads-${log}`, args.warehouse.tables[log]!, 'roles/bigquery.dataViewer');
    grants.secret(args.secrets, 'api-keys');

    const { volumes, volumeMounts } = volumesFor([
      { name: 'config', path: MOUNTS.config, bucket: args.configBucket.name, readOnly: true },
      {
        name: 'artifacts',
        path: MOUNTS.artifacts,
        bucket: args.artifactsBucket.name,
        readOnly: true,
      },
      {
        name: 'api-keys',
        path: MOUNTS.apiKeys,
        secret: args.secrets.secrets['api-keys']!.secretId,
        file: 'keys.json',
      },
    ]);
    const s = args.settings;
    this.service = new gcp.cloudrunv2.Service(
      name,
      {
        name: args.serviceName,
        location: args.region,
        ingress: s.ingress,
        deletionProtection: false,
        labels: args.labels,
        template: {
          serviceAccount: this.account.email,
          executionEnvironment: 'EXECUTION_ENVIRONMENT_GEN2',
          scaling: { minInstanceCount: s.minInstances, maxInstanceCount: s.maxInstances },
          maxInstanceRequestConcurrency: s.concurrency,
          timeout: '10s',
          labels: args.labels,
          volumes,
          containers: [
            {
              image: args.image,
              ports: { containerPort: 8080 },
              resources: { limits: { cpu: s.cpu, memory: s.memory }, startupCpuBoost: true },
              envs: [{ name: 'OSUSUME_CONFIG_YAML', value: JSON.stringify(args.appConfig) }],
              volumeMounts,
              // Ready once the store answers; alive while the process serves.
              startupProbe: {
                httpGet: { path: '/readyz' },
                periodSeconds: 2,
                timeoutSeconds: 2,
                failureThreshold: 30,
              },
              livenessProbe: {
                httpGet: { path: '/healthz' },
                periodSeconds: 15,
                failureThreshold: 3,
              },
            },
          ],
        },
      },
      { parent: this, dependsOn: grants.resources },
    );
    for (const member of s.invokers)
      new gcp.cloudrunv2.ServiceIamMember(
        `${name}-invoker-${member.replace(/[^a-z0-9]+/gi, '-')}`,
        { name: this.service.name, location: args.region, role: 'roles/run.invoker', member },
        { parent: this },
      );
    this.registerOutputs({ url: this.service.uri });
  }
}
