import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { ApiKeys } from '../api/auth.js';
import { issueLines } from '../core/config.js';
import { nearestKey, strictObject } from '../core/strict.js';

/**
 * The stack's configuration, read in one place and validated with one schema. Values come from
 * `infra/Pulumi.<stack>.yaml` (`pulumi config set ...`); secrets are set with `--secret` and stay
 * encrypted in that file. Every component takes the parts it needs as typed args.
 */
const gcpId = z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id');

// Objects reject unknown keys: a misspelt `minInstance` must not mean cold starts in prod.
const apiSchema = strictObject({
  image: z.string().optional(),
  minInstances: z.number().int().min(0).default(0),
  maxInstances: z.number().int().min(1).default(10),
  /** Requests one instance serves at once; the API is I/O-bound (one store read per request). */
  concurrency: z.number().int().min(1).max(1000).default(80),
  cpu: z.string().default('1'),
  memory: z.string().default('512Mi'),
  ingress: z
    .enum([
      'INGRESS_TRAFFIC_ALL',
      'INGRESS_TRAFFIC_INTERNAL_ONLY',
      'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER',
    ])
    .default('INGRESS_TRAFFIC_ALL'),
  /**
   * Who may invoke the service at the Cloud Run layer. `allUsers` leaves authentication to the
   * API's own tenant-scoped keys (the usual set-up for a backend calling over the internet);
   * otherwise list the product backend's service accounts (`serviceAccount:...`).
   */
  invokers: z.array(z.string().min(1)).min(1).default(['allUsers']),
}).prefault({});

const workerSchema = strictObject({
  image: z.string().optional(),
  instances: z.number().int().min(0).max(100).default(1),
  cpu: z.string().default('2'),
  memory: z.string().default('4Gi'),
}).prefault({});

const temporalSchema = strictObject({
  address: z.string().min(1),
  namespace: z.string().min(1),
  taskQueue: z.string().default('osusume'),
  /** Temporal Cloud authentication: mTLS client certificate (the default) or an API key. */
  auth: z.enum(['mtls', 'apiKey']).default('mtls'),
});

const alertsSchema = strictObject({
  email: z.string().email().optional(),
  slackChannel: z.string().startsWith('#').optional(),
  /** Share of API responses that are 5xx, over 5 minutes, above which the policy fires. */
  error5xxRatio: z.number().gt(0).lt(1).default(0.02),
  latencyP95Ms: z.number().positive().default(250),
})
  .prefault({})
  .refine((a) => Boolean(a.email) !== Boolean(a.slackChannel), {
    message:
      'set exactly one of alerts.email or alerts.slackChannel (with the secret slackAuthToken)',
  });

export const stackConfigSchema = z.object({
  project: gcpId,
  region: z.string().min(1),
  /** dev, stg or prod: named in resources and labels. */
  environment: z.enum(['dev', 'stg', 'prod']),
  /** BigQuery and Firestore location, e.g. asia-northeast1. */
  dataLocation: z.string().min(1),
  /** Stateful resources (dataset, database, buckets) refuse deletion; prod should keep it on. */
  protect: z.boolean().default(false),
  /**
   * The posts source contract as a view over the product's own tables: a SELECT returning
   * tenantId, postId, title, body, createdAt, updatedAt, deleted, lang. Without it, a `posts`
   * table is created for the product's export job to fill.
   */
  postsViewQuery: z.string().optional(),
  artifactRetentionDays: z.number().int().min(1).default(30),
  logRetentionDays: z.number().int().min(1).default(400),
  api: apiSchema,
  worker: workerSchema,
  temporal: temporalSchema,
  alerts: alertsSchema,
});

export type StackConfig = z.infer<typeof stackConfigSchema>;

/** Secret values: set with `pulumi config set --secret`; absent ones are added later with gcloud. */
export interface StackSecrets {
  apiKeys?: pulumi.Output<string>;
  temporalTlsCert?: pulumi.Output<string>;
  temporalTlsKey?: pulumi.Output<string>;
  temporalApiKey?: pulumi.Output<string>;
  slackAuthToken?: pulumi.Output<string>;
}

/** The secrets' keys (`osusume:<key>`), exported for the README's check (test/docs.test.ts). */
export const SECRET_KEYS = [
  'apiKeys',
  'temporalTlsCert',
  'temporalTlsKey',
  'temporalApiKey',
  'slackAuthToken',
] as const satisfies readonly (keyof StackSecrets)[];

/** `osusume:` keys of the stack file that nothing reads: a misspelt key is an error, not ignored. */
function unknownKeyLines(): string[] {
  const known = [
    ...Object.keys(stackConfigSchema.shape).filter((k) => k !== 'project' && k !== 'region'),
    ...SECRET_KEYS,
  ];
  return Object.keys(pulumi.runtime.allConfig())
    .filter((k) => k.startsWith('osusume:') && !known.includes(k.slice('osusume:'.length)))
    .map((k) => {
      const near = nearestKey(k.slice('osusume:'.length), known, 3);
      return `  - ${k}: unknown key${near ? ` (did you mean "osusume:${near}"?)` : ''}`;
    });
}

export function readStackConfig(): { config: StackConfig; secrets: StackSecrets } {
  const gcp = new pulumi.Config('gcp');
  const cfg = new pulumi.Config('osusume');
  const raw = {
    project: gcp.get('project'),
    region: gcp.get('region'),
    environment: cfg.get('environment'),
    dataLocation: cfg.get('dataLocation'),
    protect: cfg.getBoolean('protect'),
    postsViewQuery: cfg.get('postsViewQuery'),
    artifactRetentionDays: cfg.getNumber('artifactRetentionDays'),
    logRetentionDays: cfg.getNumber('logRetentionDays'),
    api: cfg.getObject('api'),
    worker: cfg.getObject('worker'),
    temporal: cfg.getObject('temporal'),
    alerts: cfg.getObject('alerts'),
  };
  const parsed = stackConfigSchema.safeParse(raw);
  const issues = [...(parsed.success ? [] : [issueLines(parsed.error)]), ...unknownKeyLines()];
  if (!parsed.success || issues.length > 0) {
    throw new Error(
      `Invalid stack configuration for "${pulumi.getStack()}":\n${issues.join('\n')}\n` +
        `Fix them in infra/Pulumi.${pulumi.getStack()}.yaml (gcp:project and gcp:region included).`,
    );
  }
  const secrets: StackSecrets = Object.fromEntries(
    SECRET_KEYS.map((key) => [key, cfg.getSecret(key)]),
  );
  if (parsed.data.alerts.slackChannel && !secrets.slackAuthToken)
    throw new Error(
      'alerts.slackChannel needs the Slack token: pulumi config set --secret osusume:slackAuthToken <token>',
    );
  checkApiKeys(cfg.get('apiKeys'));
  return { config: parsed.data, secrets };
}

/**
 * The API keys secret is read as the API reads it: an API instance refuses to start on a key file
 * it cannot read, so deploying one would take the API down as its instances are replaced. The
 * error does not quote the value (JSON.parse's message would show its start: a secret).
 */
function checkApiKeys(text: string | undefined): void {
  if (text === undefined) return;
  try {
    ApiKeys.parse(text, 'osusume:apiKeys');
  } catch {
    throw new Error(
      'osusume:apiKeys is not an API key file (a JSON list of {"id", "sha256", "tenants"}), and an API instance would refuse to start on it; nothing was deployed. Set it from the file `npm run api-key` writes: pulumi config set --secret osusume:apiKeys < .osusume/api-keys.json',
    );
  }
}
