/** The Pulumi program (infra/) under Pulumi's mocks: what each environment would create. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.js';
import { POST_COLUMNS } from '../core/warehouse/types.js';
import { readStackConfig } from '../infra/config.js';
import { createStack } from '../infra/stack.js';
import {
  deployWithMocks,
  stackConfig,
  type Deployed,
  type Recorded,
} from './helpers/pulumi-mocks.js';

const IMAGES = {
  api: 'asia-northeast1-docker.pkg.dev/p/osusume/api@sha256:' + 'a'.repeat(64),
  worker: 'asia-northeast1-docker.pkg.dev/p/osusume/worker@sha256:' + 'b'.repeat(64),
};
const SECRETS = {
  'osusume:apiKeys': '[]',
  'osusume:temporalTlsCert': 'CERT',
  'osusume:temporalTlsKey': 'KEY',
  'osusume:slackAuthToken': 'xoxb-test',
};

/** A stack file with the images set, as after `pulumi config set --path osusume:api.image ...`. */
function withImages(stack: string): Record<string, string> {
  const config = stackConfig(stack);
  const api = JSON.parse(config['osusume:api'] ?? '{}');
  const worker = JSON.parse(config['osusume:worker'] ?? '{}');
  return {
    ...config,
    'osusume:api': JSON.stringify({ ...api, image: IMAGES.api }),
    'osusume:worker': JSON.stringify({ ...worker, image: IMAGES.worker }),
  };
}

const T = {
  account: 'gcp:serviceaccount/account:Account',
  projectIam: 'gcp:projects/iAMMember:IAMMember',
  bucket: 'gcp:storage/bucket:Bucket',
  bucketIam: 'gcp:storage/bucketIAMMember:BucketIAMMember',
  datasetIam: 'gcp:bigquery/datasetIamMember:DatasetIamMember',
  tableIam: 'gcp:bigquery/iamMember:IamMember',
  secretIam: 'gcp:secretmanager/secretIamMember:SecretIamMember',
  runIam: 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember',
  table: 'gcp:bigquery/table:Table',
  service: 'gcp:cloudrunv2/service:Service',
  pool: 'gcp:cloudrunv2/workerPool:WorkerPool',
  policy: 'gcp:monitoring/alertPolicy:AlertPolicy',
};
const IAM_TYPES = [T.projectIam, T.bucketIam, T.datasetIam, T.tableIam, T.secretIam, T.runIam];

/** Every grant as "member role on resource", for exact comparison. */
function grants(d: Deployed, member: string): string[] {
  return IAM_TYPES.flatMap((type) => d.ofType(type))
    .filter((r) => r.inputs.member === member)
    .map((r) => {
      const i = r.inputs;
      const on = i.tableId
        ? `table ${i.tableId}`
        : i.bucket
          ? `bucket ${i.bucket}`
          : i.secretId
            ? `secret ${String(i.secretId).replace(/-id$/, '')}`
            : i.datasetId
              ? `dataset ${i.datasetId}`
              : `project${i.condition ? ` if ${i.condition.expression}` : ''}`;
      return `${i.role} on ${on}`;
    })
    .sort();
}

const policyThreshold = (d: Deployed, key: string) =>
  d.one(T.policy, `monitoring-${key}`).inputs.conditions[0].conditionThreshold;

describe('infra: prod stack', async () => {
  const d = await deployWithMocks('prod', withImages('prod'), SECRETS);
  const sa = (id: string) => `serviceAccount:${id}@osusume-prod.iam.gserviceaccount.com`;

  it('gives each runtime its own service account with exactly the grants it needs', () => {
    const accounts = d.ofType(T.account).map((r) => r.inputs.accountId);
    expect(accounts.sort()).toEqual([
      'osusume-api-prod',
      'osusume-logs-prod',
      'osusume-worker-prod',
    ]);
    const firestore =
      'roles/datastore.user on project if resource.name == "projects/osusume-prod/databases/osusume-prod"';
    expect(grants(d, sa('osusume-api-prod'))).toEqual([
      'roles/bigquery.dataViewer on table exposure_log',
      'roles/bigquery.dataViewer on table outcome_log',
      'roles/bigquery.jobUser on project',
      firestore,
      'roles/secretmanager.secretAccessor on secret secrets-api-keys',
      'roles/storage.objectViewer on bucket osusume-prod-osusume-prod-artifacts',
      'roles/storage.objectViewer on bucket osusume-prod-osusume-prod-config',
    ]);
    expect(grants(d, sa('osusume-worker-prod'))).toEqual([
      'roles/bigquery.dataEditor on table run_records',
      'roles/bigquery.dataViewer on dataset osusume_prod',
      'roles/bigquery.jobUser on project',
      firestore,
      'roles/secretmanager.secretAccessor on secret secrets-temporal-tls-cert',
      'roles/secretmanager.secretAccessor on secret secrets-temporal-tls-key',
      'roles/storage.objectAdmin on bucket osusume-prod-osusume-prod-artifacts',
      'roles/storage.objectViewer on bucket osusume-prod-osusume-prod-config',
      'roles/storage.objectViewer on bucket osusume-prod-osusume-prod-models',
    ]);
    expect(grants(d, sa('osusume-logs-prod'))).toEqual([
      'roles/bigquery.dataEditor on table assignment_log',
      'roles/bigquery.dataEditor on table exposure_log',
      'roles/bigquery.dataEditor on table outcome_log',
      'roles/bigquery.dataViewer on dataset osusume_prod_logs_raw',
      'roles/bigquery.jobUser on project',
    ]);
  });

  it('grants no basic role, creates no service-account key, and makes no bucket public', () => {
    const all = IAM_TYPES.flatMap((type) => d.ofType(type));
    expect(all.length).toBeGreaterThan(15);
    for (const r of all) expect(r.inputs.role).not.toMatch(/^roles\/(owner|editor|viewer)$/);
    expect(d.resources.some((r) => r.type.includes('serviceaccount/key'))).toBe(false);
    const publicGrants = all.filter((r) => /^all(Authenticated)?Users$/.test(r.inputs.member));
    expect(publicGrants.map((r) => `${r.type} ${r.inputs.role}`)).toEqual([
      `${T.runIam} roles/run.invoker`,
    ]);
    const buckets = d.ofType(T.bucket);
    expect(buckets).toHaveLength(3);
    for (const b of buckets)
      expect(b.inputs).toMatchObject({
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        versioning: { enabled: true },
        forceDestroy: false,
      });
    const artifacts = d.one(T.bucket, 'artifacts').inputs;
    expect(artifacts.lifecycleRules).toContainEqual({
      action: { type: 'Delete' },
      condition: { age: 30, withState: 'LIVE' },
    });
  });

  it('routes the API logs through a sink into BigQuery, then into typed tables hourly', () => {
    const sink = d.one('gcp:logging/projectSink:ProjectSink', 'api-logs-sink').inputs;
    expect(sink.destination).toBe(
      'bigquery.googleapis.com/projects/osusume-prod/datasets/osusume_prod_logs_raw',
    );
    expect(sink.filter).toBe(
      'resource.type="cloud_run_revision" AND resource.labels.service_name="osusume-api-prod" AND ' +
        'jsonPayload.logName=("osusume-exposure" OR "osusume-assignment" OR "osusume-outcome")',
    );
    expect(sink.bigqueryOptions).toEqual({ usePartitionedTables: true });
    expect(grants(d, 'serviceAccount:service-123@gcp-sa-logging.iam.gserviceaccount.com')).toEqual([
      'roles/bigquery.dataEditor on dataset osusume_prod_logs_raw',
    ]);
    const loader = d.one(
      'gcp:bigquery/dataTransferConfig:DataTransferConfig',
      'api-logs-loader',
    ).inputs;
    expect(loader).toMatchObject({
      dataSourceId: 'scheduled_query',
      schedule: 'every 1 hours',
      serviceAccountName: 'osusume-logs-prod@osusume-prod.iam.gserviceaccount.com',
    });
    const query: string = loader.params.query;
    expect(query).not.toContain('{{');
    expect(query).toContain('FROM `osusume-prod.osusume_prod_logs_raw.run_googleapis_com_stdout`');
    for (const table of ['exposure_log', 'assignment_log', 'outcome_log'])
      expect(query).toContain(`MERGE \`osusume-prod.osusume_prod.${table}\``);
  });

  it('partitions the logs by day and clusters them by tenant', () => {
    for (const log of ['exposure_log', 'assignment_log', 'outcome_log']) {
      const t = d.one(T.table, log).inputs;
      expect(t.timePartitioning).toEqual({
        type: 'DAY',
        field: 'ts',
        expirationMs: 400 * 86_400_000,
      });
      expect(t.clusterings[0]).toBe('tenantId');
      expect(JSON.parse(t.schema).map((f: { name: string }) => f.name)).toContain('requestId');
      expect(t.deletionProtection).toBe(true);
    }
    expect(d.one(T.table, 'interactions').inputs.timePartitioning).toMatchObject({
      type: 'DAY',
      field: 'ts',
    });
    const posts = d.one(T.table, 'posts').inputs;
    expect(JSON.parse(posts.schema).map((f: { name: string }) => f.name)).toEqual([
      ...POST_COLUMNS,
    ]);
    expect(d.one(T.table, 'run_records').inputs.clusterings).toEqual(['tenantId']);
  });

  it('runs the API on Cloud Run with the configured sizes, probes, ingress and secrets', () => {
    const s = d.one(T.service, 'api').inputs;
    expect(s.ingress).toBe('INGRESS_TRAFFIC_ALL');
    expect(s.template.scaling).toEqual({ minInstanceCount: 2, maxInstanceCount: 50 });
    expect(s.template.maxInstanceRequestConcurrency).toBe(80);
    const c = s.template.containers[0];
    expect(c.image).toBe(IMAGES.api);
    expect(c.resources.limits).toEqual({ cpu: '2', memory: '1Gi' });
    expect(c.startupProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(s.template.volumes).toContainEqual({
      name: 'api-keys',
      secret: {
        secret: 'osusume-prod-api-keys',
        items: [{ version: 'latest', path: 'keys.json' }],
      },
    });
    const appConfig = parseConfig(JSON.parse(c.envs[0].value), '/');
    expect(appConfig.store).toEqual({
      kind: 'firestore',
      projectId: 'osusume-prod',
      databaseId: 'osusume-prod',
      collection: 'osusume',
    });
    expect(appConfig.api.keysFile).toBe('/secrets/api-keys/keys.json');
    expect(appConfig.api.logSink).toBe('stdout');
    const mounted = c.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
    expect(mounted).toContain('/secrets/api-keys');
    expect(mounted).toContain(appConfig.experimentsFile.replace(/\/[^/]+$/, ''));
    // The result viewer reads titles from the run artifacts: mounted, read only.
    const artifacts = c.volumeMounts.find(
      (m: { mountPath: string }) => m.mountPath === appConfig.artifactsDir,
    );
    expect(s.template.volumes.find((v: { name: string }) => v.name === artifacts.name).gcs).toEqual(
      { bucket: 'osusume-prod-osusume-prod-artifacts', readOnly: true },
    );
    expect(d.outputs.apiUrl).toBe('https://osusume-api-prod-abc123-an.a.run.app');
  });

  it('runs the Temporal worker on a worker pool with mTLS files and the buckets mounted', () => {
    const p = d.one(T.pool, 'worker').inputs;
    expect(p.scaling).toEqual({ scalingMode: 'MANUAL', manualInstanceCount: 2 });
    const c = p.template.containers[0];
    const appConfig = parseConfig(JSON.parse(c.envs[0].value), '/');
    expect(appConfig.warehouse).toMatchObject({
      kind: 'bigquery',
      projectId: 'osusume-prod',
      dataset: 'osusume_prod',
    });
    expect(appConfig.temporal).toMatchObject({
      address: 'osusume-prod.a1b2c.tmprl.cloud:7233',
      namespace: 'osusume-prod.a1b2c',
      tlsCertFile: '/secrets/temporal-cert/client.pem',
      tlsKeyFile: '/secrets/temporal-key/client.key',
    });
    const byPath = Object.fromEntries(
      c.volumeMounts.map((m: { name: string; mountPath: string }) => [m.mountPath, m.name]),
    );
    const volumes = Object.fromEntries(
      p.template.volumes.map((v: Recorded['inputs']) => [v.name, v]),
    );
    expect(volumes[byPath[appConfig.artifactsDir]].gcs).toEqual({
      bucket: 'osusume-prod-osusume-prod-artifacts',
      readOnly: false,
    });
    expect(volumes[byPath[appConfig.model.dir]].gcs.readOnly).toBe(true);
    expect(volumes[byPath['/secrets/temporal-cert']].secret.secret).toBe(
      'osusume-prod-temporal-tls-cert',
    );
  });

  it('deploys each runtime only after its grants and secret values exist', () => {
    // Cloud Run refuses a revision whose account cannot read its secrets yet, and the API's
    // startup probe reads Firestore: created alongside their grants, both fail the first `up`.
    for (const [type, name, account] of [
      [T.service, 'api', 'osusume-api-prod'],
      [T.pool, 'worker', 'osusume-worker-prod'],
    ] as const) {
      const own = IAM_TYPES.flatMap((t) => d.ofType(t)).filter(
        (r) => r.inputs.member === sa(account),
      );
      expect(own.length).toBeGreaterThan(3);
      const waitsFor = d.one(type, name).dependencies;
      for (const grant of own) expect(waitsFor).toContain(grant.name);
    }
    expect(d.one(T.service, 'api').dependencies).toContain('secrets-api-keys-value');
    expect(d.one(T.pool, 'worker').dependencies).toEqual(
      expect.arrayContaining(['secrets-temporal-tls-cert-value', 'secrets-temporal-tls-key-value']),
    );
  });

  it('alerts on 5xx ratio, p95 latency, failed batch runs and a failing uptime check', () => {
    expect(policyThreshold(d, 'api-5xx')).toMatchObject({
      thresholdValue: 0.01,
      comparison: 'COMPARISON_GT',
    });
    expect(policyThreshold(d, 'api-5xx').filter).toContain(
      'metric.labels.response_code_class="5xx"',
    );
    expect(policyThreshold(d, 'api-latency')).toMatchObject({
      thresholdValue: 150,
      aggregations: [expect.objectContaining({ perSeriesAligner: 'ALIGN_PERCENTILE_95' })],
    });
    expect(policyThreshold(d, 'batch-failures')).toMatchObject({ thresholdValue: 0 });
    expect(policyThreshold(d, 'batch-failures').filter).toContain(
      'logging.googleapis.com/user/osusume_prod_batch_failures',
    );
    expect(policyThreshold(d, 'api-uptime').filter).toContain('monitoring-uptime-check-id');
    const check = d.one(
      'gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig',
      'monitoring-uptime',
    ).inputs;
    expect(check.httpCheck).toMatchObject({ path: '/healthz', useSsl: true });
    expect(check.monitoredResource.labels.host).toBe('osusume-api-prod-abc123-an.a.run.app');
    const channel = d.one(
      'gcp:monitoring/notificationChannel:NotificationChannel',
      'monitoring-slack',
    ).inputs;
    expect(channel).toMatchObject({ type: 'slack', labels: { channel_name: '#osusume-alerts' } });
    for (const p of d.ofType(T.policy))
      expect(p.inputs.notificationChannels).toEqual([
        'projects/osusume-prod/notificationChannels/monitoring-slack',
      ]);
  });

  it('enables every API the stack and the README steps call, and leaves them on when destroyed', () => {
    const services = d.ofType('gcp:projects/service:Service');
    expect(services.map((s) => s.inputs.service).sort()).toEqual(
      [
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
      ].map((api) => `${api}.googleapis.com`),
    );
    for (const s of services) expect(s.inputs.disableOnDestroy).toBe(false);
  });

  it('creates the Firestore database, registry and secrets (values only from encrypted config)', () => {
    expect(d.one('gcp:firestore/database:Database', 'store').inputs).toMatchObject({
      type: 'FIRESTORE_NATIVE',
      locationId: 'asia-northeast1',
      deleteProtectionState: 'DELETE_PROTECTION_ENABLED',
    });
    expect(d.one('gcp:artifactregistry/repository:Repository', 'images').inputs.format).toBe(
      'DOCKER',
    );
    const secretIds = d.ofType('gcp:secretmanager/secret:Secret').map((s) => s.inputs.secretId);
    expect(secretIds.sort()).toEqual([
      'osusume-prod-api-keys',
      'osusume-prod-temporal-tls-cert',
      'osusume-prod-temporal-tls-key',
    ]);
    expect(d.ofType('gcp:secretmanager/secretVersion:SecretVersion')).toHaveLength(3);
    expect(d.outputs).toMatchObject({
      datasetId: 'osusume_prod',
      buckets: {
        artifacts: 'osusume-prod-osusume-prod-artifacts',
        models: 'osusume-prod-osusume-prod-models',
        config: 'osusume-prod-osusume-prod-config',
      },
      temporal: { address: 'osusume-prod.a1b2c.tmprl.cloud:7233', namespace: 'osusume-prod.a1b2c' },
    });
  });
});

describe('infra: environments differ where they should', async () => {
  const dev = await deployWithMocks('dev', withImages('dev'), SECRETS);
  const stg = await deployWithMocks('stg', stackConfig('stg'), {});

  it('lets dev scale to zero and be deleted; prod keeps warm instances and protection', () => {
    const scaling = dev.one(T.service, 'api').inputs.template.scaling;
    expect(scaling.minInstanceCount).toBe(0);
    expect(dev.one('gcp:firestore/database:Database', 'store').inputs.deleteProtectionState).toBe(
      'DELETE_PROTECTION_DISABLED',
    );
    expect(dev.one(T.table, 'exposure_log').inputs.deletionProtection).toBe(false);
    expect(dev.one(T.bucket, 'artifacts').inputs.forceDestroy).toBe(true);
    expect(
      dev.one('gcp:monitoring/notificationChannel:NotificationChannel', 'monitoring-email').inputs
        .labels,
    ).toEqual({
      email_address: 'ml-team@example.com',
    });
    expect(policyThreshold(dev, 'api-latency').thresholdValue).toBe(500);
  });

  it('creates no runtime until its image is configured, and says how to deploy it', () => {
    expect(stg.ofType(T.service)).toHaveLength(0);
    expect(stg.ofType(T.pool)).toHaveLength(0);
    expect(stg.outputs.apiUrl).toMatch(/not deployed: set osusume:api.image/);
    expect(stg.ofType('gcp:logging/projectSink:ProjectSink')).toHaveLength(1);
    expect(stg.ofType('gcp:secretmanager/secretVersion:SecretVersion')).toHaveLength(0);
  });
});

describe('infra: the entry point Pulumi runs', () => {
  it('exports the stack outputs from infra/index.ts', async () => {
    const d = await deployWithMocks('dev', withImages('dev'), SECRETS, async () => ({
      ...(await import('../infra/index.js')),
    }));
    expect(d.outputs).toMatchObject({
      apiUrl: 'https://osusume-api-dev-abc123-an.a.run.app',
      workerPool: 'osusume-worker-dev',
      imageRepository: 'asia-northeast1-docker.pkg.dev/osusume-dev/osusume-dev',
      datasetId: 'osusume_dev',
      firestoreDatabase: 'osusume-dev',
    });
  });
});

describe('infra: configuration errors', () => {
  it('names every bad entry and the file to fix', async () => {
    const config = {
      ...stackConfig('dev'),
      'osusume:alerts': '{}',
      'osusume:temporal': '{"address":""}',
    };
    await expect(deployWithMocks('dev', config)).rejects.toThrow(
      /Invalid stack configuration for "dev":\n.*temporal.address.*\n.*\n?.*alerts.*exactly one of alerts.email or alerts.slackChannel[\s\S]*infra\/Pulumi.dev.yaml/,
    );
  });

  it('refuses a misspelt key instead of ignoring it, and names the key meant', async () => {
    const config = {
      ...stackConfig('prod'),
      'osusume:api': JSON.stringify({ minInstance: 2, maxInstances: 50 }),
      'osusume:artifactRetentionDay': '30',
    };
    const deploy = deployWithMocks('prod', config, SECRETS);
    await expect(deploy).rejects.toThrow(
      /api: unknown key "minInstance" \(did you mean "minInstances"\?\)/,
    );
    await expect(deploy).rejects.toThrow(
      /osusume:artifactRetentionDay: unknown key \(did you mean "osusume:artifactRetentionDays"\?\)/,
    );
  });

  it('refuses an experiments file with an error before anything is deployed', async () => {
    // Every new API instance would refuse to start on it: a deploy would take the API down.
    const dir = mkdtempSync(path.join(tmpdir(), 'osusume-infra-'));
    const file = path.join(dir, 'experiments.yaml');
    writeFileSync(
      file,
      'experiments:\n  - id: e\n    surface: footer\n    variants: [{ name: a, algorithm: lexcal }]\n',
    );
    const program = async () => {
      const { config, secrets } = readStackConfig();
      return createStack(config, secrets, file);
    };
    try {
      await expect(deployWithMocks('dev', stackConfig('dev'), {}, program)).rejects.toThrow(
        /^Nothing was deployed: \S*experiments\.yaml is invalid:\n {2}- experiments\[0\] \("e"\)\.variants\[0\] \("a"\)\.algorithm: .*\nFix these entries; .*Check it with `npm run validate`, then run pulumi up again\.$/,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('refuses an API keys secret the API could not read, before anything is deployed', async () => {
    // A plain key instead of the key file, as a mistaken `pulumi config set --secret` would set it.
    const secrets = { ...SECRETS, 'osusume:apiKeys': 'osk_not-a-key-file' };
    await expect(deployWithMocks('prod', withImages('prod'), secrets)).rejects.toThrow(
      /^osusume:apiKeys is not an API key file .*nothing was deployed\. Set it from the file `npm run api-key` writes: pulumi config set --secret osusume:apiKeys < \.osusume\/api-keys\.json$/,
    );
    // The message never quotes the secret.
    await expect(deployWithMocks('prod', withImages('prod'), secrets)).rejects.not.toThrow(/osk_/);
  });

  it('asks for the Slack token when alerts go to Slack', async () => {
    await expect(deployWithMocks('prod', stackConfig('prod'))).rejects.toThrow(
      /pulumi config set --secret osusume:slackAuthToken/,
    );
  });

  it("makes the posts source a view over the product's tables when a query is configured", async () => {
    const query =
      'SELECT community AS tenantId, id AS postId, subject AS title FROM `p.product.posts`';
    const d = await deployWithMocks('dev', {
      ...stackConfig('dev'),
      'osusume:postsViewQuery': query,
    });
    const posts = d.one(T.table, 'posts').inputs;
    expect(posts.view).toEqual({ query, useLegacySql: false });
    expect(posts.schema).toBeUndefined();
  });

  it('can authenticate the worker to Temporal with an API key instead of mTLS', async () => {
    const config = withImages('dev');
    const temporal = JSON.parse(config['osusume:temporal']!);
    config['osusume:temporal'] = JSON.stringify({ ...temporal, auth: 'apiKey' });
    const d = await deployWithMocks('dev', config, { 'osusume:temporalApiKey': 'k' });
    const env = d.one(T.pool, 'worker').inputs.template.containers[0].envs;
    expect(env).toContainEqual({
      name: 'TEMPORAL_API_KEY',
      valueSource: { secretKeyRef: { secret: 'osusume-dev-temporal-api-key', version: 'latest' } },
    });
    expect(JSON.parse(env[0].value).temporal.tlsCertFile).toBeUndefined();
  });
});
