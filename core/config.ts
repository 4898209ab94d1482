import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { strictObject, yamlSyntaxError } from './strict.js';

/**
 * The one configuration loader. Everything has a default that runs on a laptop with the
 * embedded stand-ins; a YAML document (see loadConfig for where it is found) overrides any part. Relative paths are resolved against the folder of that file.
 */
const gcpName = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'must be a plain GCP resource name');

const warehouseSchema = z.discriminatedUnion('kind', [
  strictObject({
    kind: z.literal('duckdb'),
    path: z.string().default('.osusume/warehouse.duckdb'),
  }),
  strictObject({
    kind: z.literal('bigquery'),
    projectId: gcpName,
    dataset: gcpName,
    location: z.string().default('US'),
    postsTable: gcpName.default('posts'),
    interactionsTable: gcpName.default('interactions'),
    runRecordsTable: gcpName.default('run_records'),
    /** Only for tests and emulators: the REST endpoint of BigQuery. */
    apiEndpoint: z.string().url().optional(),
  }),
]);

const storeSchema = z.discriminatedUnion('kind', [
  strictObject({ kind: z.literal('lmdb'), path: z.string().default('.osusume/store.lmdb') }),
  strictObject({
    kind: z.literal('firestore'),
    projectId: gcpName,
    databaseId: gcpName.default('(default)'),
    /** Top-level collection, so that several environments can share one database. */
    collection: gcpName.default('osusume'),
  }),
]);

/** model.dir when the configuration sets none: set-up puts nothing there, so usually absent. */
const DEFAULT_MODEL_DIR = '.osusume/model';

const configFields = strictObject({
  /** The JSON Schema editors complete from (osusume.config.schema.json). */
  $schema: z.string().optional(),
  warehouse: warehouseSchema.default({ kind: 'duckdb', path: '.osusume/warehouse.duckdb' }),
  store: storeSchema.default({ kind: 'lmdb', path: '.osusume/store.lmdb' }),
  artifactsDir: z.string().default('.osusume/artifacts'),
  model: strictObject({
    /**
     * A folder with model.onnx (or model_quantized.onnx) and tokenizer.json. When it holds no
     * model, every tenant trains its own LSA model in the batch (core/model/lsa.ts). No zod
     * default: a folder set here must exist (configuredModelDir), while the default may be absent,
     * so the transform below tells them apart. The JSON Schema still shows the default to editors.
     */
    dir: z.string().optional().meta({ default: DEFAULT_MODEL_DIR }),
    /** Prepended to every text, e.g. "query: " for the e5 family (texts compared with each other). */
    prefix: z.string().default(''),
    threads: z.number().int().min(1).max(64).default(2),
    batchSize: z.number().int().min(1).max(1024).default(32),
    maxTokens: z.number().int().min(8).max(8192).default(128),
    /**
     * How a token-level output becomes one vector: the mean over tokens (sentence-transformers,
     * e5) or the first token's vector, "cls" (the bge family, which was trained that way).
     */
    pooling: z.enum(['mean', 'cls']).default('mean'),
    /** Dimensions of the per-tenant LSA model trained when model.dir holds no model. */
    lsaDim: z.number().int().min(2).max(1024).default(128),
  }).prefault({}),
  neighbours: strictObject({
    k: z.number().int().min(1).max(200).default(20),
    /** Up to this many posts the search is exact (BLAS); above it IVF, which wins only at larger sizes (BENCHMARKS.md). */
    exactMaxPosts: z.number().int().min(1).default(50_000),
    /** IVF lists probed per query: higher is slower and closer to exact. */
    nprobe: z.number().int().min(1).max(4096).default(16),
  }).prefault({}),
  /**
   * The default lists' title-aware lexical similarity (activities/lexical.ts, fieldedNeighbours).
   * The defaults change only when `osusume evaluate --all-datasets --sweep` finds weights whose
   * worst ratio to plain TF-IDF beats theirs beyond noise (its verdict; the rule in EVALUATION.md).
   */
  fielded: strictObject({
    /** TF-IDF weights of the full-text channel use idf to this power (> 1 favours rare terms). */
    idfPower: z.number().min(0).max(4).default(1),
    /** A title's terms count this many extra times in the full text (a title says what a post is about). */
    titleRepeats: z.number().int().min(0).max(10).default(0),
    /** Weight of "the other post's body contains this post's title" (each direction). */
    containment: z.number().min(0).max(10).default(0.1),
    /**
     * 1: containment weighs a title's terms by idf - 1, what a term says beyond one found in every
     * post (a generic title names nothing in a small tenant); 0: by idf. On since the twelfth
     * session (EVALUATION.md).
     */
    containmentInformation: z.number().int().min(0).max(1).default(1),
    /** Weight of "the other post's body names this post's first title term" (each direction). */
    leadingTerm: z.number().min(0).max(10).default(0),
    /** Weight of the cosine of the character trigrams of the names two titles list (`getaddrinfo`, `getnameinfo`; `isalnum, isalpha(3)`). */
    nameGrams: z.number().min(0).max(10).default(0),
    /** Weight of the cosine of the two posts' embeddings (topics shared without exact terms). */
    latent: z.number().min(0).max(10).default(0),
    /**
     * Which embeddings `latent` compares: a per-tenant LSA model trained on the fly ("lsa"), or
     * the run's `embedding` vectors ("embedding": model.dir's encoder, or the tenant's trained
     * model when it holds none), which the batch then computes even when no experiment serves
     * the `embedding` lists.
     */
    latentVectors: z.enum(['lsa', 'embedding']).default('lsa'),
    /** Weight of "one post's body holds the other's short title as a phrase" (either way; a link, a command named). */
    titlePhrase: z.number().min(0).max(10).default(0.05),
    /** Weight of the cosine of the two posts' neighbour lists (second-order: neighbours shared). */
    sharedNeighbours: z.number().min(0).max(10).default(0),
    /** Length of the neighbour lists compared by `sharedNeighbours`. */
    neighbourListLength: z.number().int().min(2).max(200).default(20),
    /** Weight of the title-to-title and title-trigram channels in a tenant whose titles repeat. */
    titleChannels: z.number().min(0).max(10).default(0.5),
    /** Title cosine from which two titles count as the same (a reply's subject, a repeated heading). */
    sameTitle: z.number().min(0).max(1).default(0.8),
    /** Share of posts with a repeated title at which the title channels get their full weight. */
    fullTitleShare: z.number().min(0.001).max(1).default(0.3),
    /**
     * 1: a partial title match counts only as much as the tenant's titles repeat (identical titles
     * as before); 0: as much as an identical one's share of it. On since the twelfth session
     * (EVALUATION.md).
     */
    exactTitles: z.number().int().min(0).max(1).default(1),
  }).prefault({}),
  pipeline: strictObject({
    /** Tenants with fewer live posts get a popularity/recency list instead of embeddings. */
    minPostsForEmbedding: z.number().int().min(2).default(20),
    /** Versions kept per tenant, the active one included (older ones are garbage-collected). */
    keepVersions: z.number().int().min(2).default(2),
    maxPostChars: z.number().int().min(100).default(200_000),
    maxTextChars: z.number().int().min(100).default(4_000),
    /** Tenants processed at once by the local batch command. */
    concurrency: z.number().int().min(1).max(64).default(1),
    /** Tenants whose lists are no longer computed; their served lists are purged after the grace period. */
    disabledTenants: z.array(z.string()).default([]),
    /** Days a tenant may be missing from the warehouse (or disabled) before its lists are purged. */
    purgeGraceDays: z.number().min(0).default(7),
    /**
     * A version replaced as the active one is kept at least this long: an API instance may
     * still serve from a pointer it cached (api.reloadSeconds), so this must be longer.
     */
    supersededGraceSeconds: z.number().min(0).default(300),
    /**
     * A version never activated, and run artifacts no kept version references, are collected
     * once nothing has written to them for this long (a crashed or abandoned run; a run in
     * progress writes more often).
     */
    abandonedGraceHours: z.number().min(0).default(24),
  }).prefault({}),
  /** The experiments file shared by the API and the batch (see experiments.schema.json). */
  experimentsFile: z.string().default('experiments.yaml'),
  api: strictObject({
    port: z.number().int().min(0).max(65535).default(8080),
    /** API keys: entries of { id, sha256, tenants } (hashes only; see `npm run api-key`). */
    keysFile: z.string().default('.osusume/api-keys.json'),
    /** JSON-lines logs: "file" writes {logsDir}/{log}-YYYY-MM-DD.jsonl, "stdout" for Cloud Logging. */
    logSink: z.enum(['file', 'stdout']).default('file'),
    logsDir: z.string().default('.osusume/logs'),
    /** A store read slower than this is abandoned for the popular fallback. */
    storeTimeoutMs: z.number().int().min(1).default(100),
    defaultLimit: z.number().int().min(1).max(100).default(10),
    maxLimit: z.number().int().min(1).max(100).default(50),
    /**
     * Lists kept in memory by the API, least recently used out (0: off); they never go stale,
     * as a version's lists do not change. Default: 10,000 on Firestore, where a read is a
     * network round trip, and off on LMDB, whose reads beat the cache's own bookkeeping
     * (`npm run bench:store`).
     */
    listCacheSize: z.number().int().min(0).optional(),
    /** How often the experiments file, keys file and hidden posts are re-read. */
    reloadSeconds: z.number().min(0.1).default(5),
    /** Per-tenant metric labels; turn off for very many tenants. */
    tenantMetrics: z.boolean().default(true),
    /**
     * Tenants with a label of their own in metrics (tenants with an active version, first seen
     * first); the others are counted as "other", so /metrics stays small whatever ids arrive.
     */
    maxTenantLabels: z.number().int().min(0).default(200),
    /**
     * Serve /metrics on this port only, without a key (for a scraper inside the network). When
     * unset, /metrics is on the API's port and needs a key scoped to all tenants.
     */
    metricsPort: z.number().int().min(0).max(65535).optional(),
    /** Tenants whose pointer and hidden posts the API keeps in memory (least recent out). */
    tenantCacheSize: z.number().int().min(1).default(10_000),
    /** Hidden posts a tenant may have at once (each API process holds them in memory). */
    maxHiddenPerTenant: z.number().int().min(1).default(10_000),
    /**
     * Socket limits: a request must arrive whole within requestSeconds (its headers within
     * headersSeconds); an idle keep-alive connection closes after keepAliveSeconds.
     */
    timeouts: strictObject({
      requestSeconds: z.number().min(1).default(10),
      headersSeconds: z.number().min(1).default(5),
      keepAliveSeconds: z.number().min(1).default(5),
    }).prefault({}),
    /**
     * Answer plain related-posts requests on a store with synchronous reads (LMDB) without
     * going through Hono: same answers, a quarter to a third less CPU per request
     * (`npm run bench:api`).
     */
    fastPath: z.boolean().default(true),
  }).prefault({}),
  alerts: strictObject({
    /** Slack incoming webhook for failed runs (a secret: prefer OSUSUME_SLACK_WEBHOOK_URL). */
    slackWebhookUrl: z.string().url().optional(),
  }).prefault({}),
  temporal: strictObject({
    address: z.string().default('localhost:7233'),
    namespace: z.string().default('default'),
    taskQueue: z.string().default('osusume'),
    /** mTLS for Temporal Cloud: PEM files (paths) of the client certificate and key. */
    tlsCertFile: z.string().optional(),
    tlsKeyFile: z.string().optional(),
    apiKey: z.string().optional(),
    /** Tenant workflows running at once per batch (pending children stay far below 2,000). */
    maxConcurrentTenants: z.number().int().min(1).max(1000).default(20),
    /** Tenants per batch workflow run before it continues as new (keeps history small). */
    tenantsPerSegment: z.number().int().min(1).max(2000).default(1000),
    maxConcurrentActivities: z.number().int().min(1).max(256).default(4),
    /**
     * How long a tenant's step may go without a heartbeat before Temporal gives the attempt up
     * and retries it on another worker: how soon a crashed worker's steps resume (embedding
     * from its last checkpoint). Default: the workflow's 2m.
     */
    heartbeatTimeout: z
      .string()
      .regex(/^\d+(ms|s|m|h)$/, 'a duration such as 30s or 2m')
      .optional(),
    /**
     * How long a worker told to stop (SIGTERM) lets running steps finish before it cancels them:
     * a cancelled step's attempt fails at once and is retried on another worker (embedding from
     * its last checkpoint). Keep it a few seconds below the platform's kill: Cloud Run SIGKILLs
     * 10 s after SIGTERM, and a killed worker's steps wait for their heartbeat timeout instead.
     */
    shutdownGraceTime: z
      .string()
      .regex(/^\d+(ms|s|m|h)$/, 'a duration such as 5s or 1m')
      .default('5s'),
    schedule: strictObject({
      id: z.string().default('osusume-nightly'),
      /** Cron in `timezone`; the default is 03:00 in Tokyo. */
      cron: z.string().default('0 3 * * *'),
      timezone: z.string().default('Asia/Tokyo'),
      /** Missed runs (server down) are still started within this window, else skipped. */
      catchupWindow: z.string().default('6h'),
    }).prefault({}),
  }).prefault({}),
});

/** The `fielded` section alone: the values a sweep tries are checked as the file's are. */
export const fieldedSchema = configFields.shape.fielded.unwrap();

/** The configuration with the defaults that depend on another entry filled in. */
export const configSchema = configFields
  .refine(
    (c) => c.pipeline.supersededGraceSeconds > c.api.reloadSeconds + c.api.storeTimeoutMs / 1000,
    {
      path: ['pipeline', 'supersededGraceSeconds'],
      message:
        'must be longer than api.reloadSeconds plus api.storeTimeoutMs: an API instance may still read a replaced version that long',
    },
  )
  .refine(
    ({ api: { timeouts: t } }) =>
      t.keepAliveSeconds <= t.headersSeconds && t.headersSeconds <= t.requestSeconds,
    {
      path: ['api', 'timeouts'],
      message:
        'keepAliveSeconds <= headersSeconds <= requestSeconds: Node drops an idle connection after headersSeconds, and a client that reuses it then gets a reset',
    },
  )
  .transform((config) => ({
    ...config,
    model: {
      ...config.model,
      dir: config.model.dir ?? DEFAULT_MODEL_DIR,
      /** model.dir was set (in the file or OSUSUME_CONFIG_YAML): it must then exist. */
      dirSet: config.model.dir !== undefined,
    },
    api: {
      ...config.api,
      listCacheSize: config.api.listCacheSize ?? (config.store.kind === 'firestore' ? 10_000 : 0),
    },
  }));

export type Config = z.infer<typeof configSchema>;
export type WarehouseConfig = Config['warehouse'];
export type StoreConfig = Config['store'];

/** One line per schema issue, naming the entry: "  - neighbours.k: Too small...". */
export function issueLines(error: z.ZodError): string {
  return error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
}

function formatIssues(error: z.ZodError, source: string): string {
  return `Invalid configuration in ${source}:\n${issueLines(error)}\nFix these entries and run again.`;
}

function resolvePaths(config: Config, baseDir: string): Config {
  const abs = (p: string) => path.resolve(baseDir, p);
  return {
    ...config,
    warehouse:
      config.warehouse.kind === 'duckdb'
        ? { ...config.warehouse, path: abs(config.warehouse.path) }
        : config.warehouse,
    store:
      config.store.kind === 'lmdb'
        ? { ...config.store, path: abs(config.store.path) }
        : config.store,
    artifactsDir: abs(config.artifactsDir),
    experimentsFile: abs(config.experimentsFile),
    api: { ...config.api, keysFile: abs(config.api.keysFile), logsDir: abs(config.api.logsDir) },
    model: { ...config.model, dir: abs(config.model.dir) },
    // The file's TLS paths, as its other paths; TEMPORAL_TLS_CERT/KEY (applyEnv) stay relative to
    // the current folder, as a shell's paths are.
    temporal: {
      ...config.temporal,
      tlsCertFile: config.temporal.tlsCertFile && abs(config.temporal.tlsCertFile),
      tlsKeyFile: config.temporal.tlsKeyFile && abs(config.temporal.tlsKeyFile),
    },
  };
}

/** Parse an in-memory object (tests, or a file's contents) into a complete Config. */
export function parseConfig(raw: unknown, baseDir: string, source = 'configuration'): Config {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, source));
  return resolvePaths(parsed.data, baseDir);
}

/** An environment variable's value; an empty one (`TEMPORAL_ADDRESS= npm run …`) counts as unset. */
function fromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name] || undefined;
}

/** PORT (Cloud Run sets it) over api.port, checked as the file's port is. */
function portFromEnv(env: NodeJS.ProcessEnv, configured: number): number {
  const raw = fromEnv(env, 'PORT');
  if (raw === undefined) return configured;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535)
    throw new ConfigError(
      `PORT is ${JSON.stringify(raw)}, not a port number: set it to a whole number from 0 to 65535, or unset it to use api.port (${configured}).`,
    );
  return Number(raw);
}

/** Environment variables that override the file: deployment settings and secrets. */
function applyEnv(config: Config, env: NodeJS.ProcessEnv): Config {
  const t = config.temporal;
  return {
    ...config,
    api: { ...config.api, port: portFromEnv(env, config.api.port) },
    alerts: {
      slackWebhookUrl: fromEnv(env, 'OSUSUME_SLACK_WEBHOOK_URL') ?? config.alerts.slackWebhookUrl,
    },
    temporal: {
      ...t,
      address: fromEnv(env, 'TEMPORAL_ADDRESS') ?? t.address,
      namespace: fromEnv(env, 'TEMPORAL_NAMESPACE') ?? t.namespace,
      taskQueue: fromEnv(env, 'TEMPORAL_TASK_QUEUE') ?? t.taskQueue,
      tlsCertFile: fromEnv(env, 'TEMPORAL_TLS_CERT') ?? t.tlsCertFile,
      tlsKeyFile: fromEnv(env, 'TEMPORAL_TLS_KEY') ?? t.tlsKeyFile,
      apiKey: fromEnv(env, 'TEMPORAL_API_KEY') ?? t.apiKey,
    },
  };
}

function parseYamlDocument(text: string, source: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      `Cannot parse ${source} as YAML: ${yamlSyntaxError(error)}; fix it and run again.`,
    );
  }
}

/**
 * OSUSUME_CONFIG_YAML (the document itself, as the cloud deployment passes it), else the file
 * OSUSUME_CONFIG, else ./osusume.config.yaml when present, else the defaults.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const inline = env.OSUSUME_CONFIG_YAML;
  if (inline) {
    const source = 'OSUSUME_CONFIG_YAML';
    return applyEnv(parseConfig(parseYamlDocument(inline, source), cwd, source), env);
  }
  const explicit = env.OSUSUME_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : path.join(cwd, 'osusume.config.yaml');
  if (!existsSync(file)) {
    if (explicit) {
      throw new ConfigError(
        `OSUSUME_CONFIG points to ${file}, which does not exist: set it to the path of your configuration file, or unset it to read ./osusume.config.yaml (or the defaults, without one).`,
      );
    }
    return applyEnv(parseConfig({}, cwd, 'defaults'), env);
  }
  const raw = parseYamlDocument(readFileSync(file, 'utf8'), file);
  return applyEnv(parseConfig(raw, path.dirname(file), file), env);
}

/** The JSON Schema of osusume.config.yaml, for editors (published as osusume.config.schema.json). */
export function configJsonSchema(): object {
  return z.toJSONSchema(configFields, { io: 'input', target: 'draft-7' });
}
