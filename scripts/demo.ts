/**
 * The README's main job: loads the demo dataset (manual pages, English and Japanese, one tenant
 * per language and section) into the local warehouse, builds the demo embedding model if none is
 * configured, runs the batch for every tenant (on Temporal when one can be reached or started,
 * else in process), and prints a sample of related posts.
 * Then it serves the lists through the API and shows its answers.
 *   osusume demo [--keep-server] [--serve]   (keep the Temporal dev server / the API running)
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openContext } from '../activities/context.js';
import { createClient } from '../api/client.js';
import { startServer } from '../api/server.js';
import { configuredModelDir } from '../activities/tenant-model.js';
import { loadConfig, type Config } from '../core/config.js';
import { ConfigError, plural } from '../core/errors.js';
import { experimentsReadiness, loadExperiments, readinessWarnings } from '../core/experiments.js';
import { log } from '../core/log.js';
import { createRandom } from '../core/random.js';
import { openStore } from '../core/store/index.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';
import { addApiKey } from './api-key.js';
import { confirm } from './confirm.js';
import { defaultRunId, formatReport, formatSummary, runBatch } from './batch.js';
import { readPairs } from './evaluate.js';
import { runBatchOnTemporal, untilInterrupted } from './orchestrate.js';

const DEMO_POSTS = path.resolve('demo/posts.jsonl.gz');
const DEMO_LINKS = path.resolve('demo/related.tsv.gz');
const SAMPLES = [
  ['en-man2', 'open.2'],
  ['ja-man2', 'open.2'],
  ['ja-man3', 'printf.3'],
] as const;

interface DemoPost {
  tenantId: string;
  postId: string;
  title: string;
  body: string;
  createdAt: string;
}

/**
 * Synthetic interactions (the man pages have none): readers viewing and liking pages, and half
 * the time going on to a page the first one links to (SEE ALSO), as readers of a manual do.
 * Random co-views would teach co-engagement noise, which the default blends into its lists.
 */
function syntheticInteractions(posts: DemoPost[], links: Map<string, [string, string][]>): string {
  const random = createRandom(7);
  const seeAlso = new Map<string, string[]>();
  for (const [tenant, pairs] of links)
    for (const [a, b] of pairs) {
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        const key = `${tenant}/${from}`;
        seeAlso.set(key, [...(seeAlso.get(key) ?? []), to]);
      }
    }
  const lines: string[] = [];
  const event = (p: DemoPost, userId: string, postId: string, ts: number, type: string) =>
    lines.push(
      JSON.stringify({
        tenantId: p.tenantId,
        userId,
        postId,
        type,
        ts: new Date(ts).toISOString(),
      }),
    );
  for (const p of posts) {
    const events = Math.floor(random() ** 3 * 30);
    const next = seeAlso.get(`${p.tenantId}/${p.postId}`) ?? [];
    for (let e = 0; e < events; e++) {
      const ts = Date.parse(p.createdAt) + Math.floor(random() * 60) * 86_400_000;
      const type = random() < 0.8 ? 'view' : random() < 0.5 ? 'click' : 'like';
      // One reader per visit: shared random readers would make every page co-viewed with every other.
      const userId = `u${lines.length}`;
      event(p, userId, p.postId, ts, type);
      if (next.length > 0 && random() < 0.5)
        event(p, userId, next[Math.floor(random() * next.length)]!, ts + 600_000, 'view');
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * The demo replaces the warehouse: it asks first when the warehouse holds tenants it did not
 * load (a user's own data, which the batch would then purge from serving after the grace period).
 */
async function checkForeignTenants(
  warehouse: DuckDbWarehouse,
  file: string,
  posts: DemoPost[],
  replace: boolean,
): Promise<boolean> {
  const demoTenants = new Set(posts.map((p) => p.tenantId));
  const foreign = (await warehouse.listTenants())
    .map((t) => t.tenantId)
    .filter((t) => !demoTenants.has(t));
  if (foreign.length === 0 || replace) return true;
  const named = `${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? `, and ${foreign.length - 5} more` : ''}`;
  const held = `The warehouse ${file} holds ${plural(foreign.length, 'tenant')} the demo did not load (${named}), which the demo replaces.`;
  return confirm(
    held,
    `${held} Run the demo with --replace, or keep the warehouse as it is and run the demo in another clone of osusume (each keeps its warehouse, lists and artifacts in its own .osusume/).`,
  );
}

async function loadDemoData(config: Config, posts: DemoPost[], replace: boolean): Promise<boolean> {
  if (config.warehouse.kind !== 'duckdb')
    throw new ConfigError('The demo loads into the local DuckDB warehouse; unset OSUSUME_CONFIG.');
  const postsFile = path.join(path.dirname(config.warehouse.path), 'demo-posts.jsonl');
  const interactionsFile = path.join(
    path.dirname(config.warehouse.path),
    'demo-interactions.jsonl',
  );
  const warehouse = await DuckDbWarehouse.open(config.warehouse.path);
  try {
    if (!(await checkForeignTenants(warehouse, config.warehouse.path, posts, replace)))
      return false;
    writeFileSync(postsFile, posts.map((p) => JSON.stringify(p)).join('\n') + '\n');
    writeFileSync(interactionsFile, syntheticInteractions(posts, readPairs(DEMO_LINKS)));
    const loaded = await warehouse.importFile('posts', postsFile, { replace: true });
    const events = await warehouse.importFile('interactions', interactionsFile, { replace: true });
    console.log(
      `Loaded ${plural(loaded.rows, 'post')} and ${plural(events.rows, 'synthetic interaction')} into ${config.warehouse.path}`,
    );
    return true;
  } finally {
    await warehouse.close();
  }
}

function describeModel(config: Config): void {
  const dir = configuredModelDir(config.model);
  console.log(
    dir
      ? `Using the embedding model in ${dir}`
      : `No embedding model in ${config.model.dir}: each tenant trains its own LSA model in the batch (see the README to plug in a pretrained one).`,
  );
}

/** In process when no Temporal server can be had; the flow and the steps are the same. */
export async function runBatchAnyhow(
  config: Config,
  runId: string,
  keepServer: boolean,
): Promise<{ ok: boolean; keptServer?: { workflowUrl?: string; stop: () => Promise<void> } }> {
  const onTemporal = await runBatchOnTemporal(config, runId, { keepServer });
  if (!('unavailable' in onTemporal)) {
    console.log(`\nRan on ${onTemporal.description}.`);
    const { stopServer, workflowUrl } = onTemporal;
    // Without --keep-server the dev server is already gone: its link would lead nowhere.
    if (workflowUrl)
      console.log(
        stopServer
          ? `Inspect the run: ${workflowUrl}`
          : 'The dev server stopped with the run: `npm run demo -- --keep-server` keeps it up to inspect the run in its UI.',
      );
    console.log(formatReport(onTemporal.report));
    return {
      ok: onTemporal.report.failedCount === 0,
      keptServer: stopServer && { workflowUrl, stop: stopServer },
    };
  }
  console.log(`${onTemporal.unavailable}\nRunning the same workflow steps in process instead.`);
  const ctx = await openContext(config);
  try {
    const result = await runBatch(ctx, { runId });
    console.log('\n' + formatSummary(result));
    return { ok: result.failed.length === 0 };
  } finally {
    await ctx.close();
  }
}

/** What stays up after the demo (the API, the Temporal dev server), until one Ctrl+C. */
async function keepRunning(what: string[]): Promise<void> {
  if (what.length === 0) return;
  console.log(`\n${what.join('\n')}\nPress Ctrl+C to stop.`);
  await untilInterrupted();
}

async function printSamples(config: Config, posts: DemoPost[]): Promise<void> {
  const titles = new Map(posts.map((p) => [`${p.tenantId}/${p.postId}`, p.title]));
  const store = openStore(config.store);
  const algorithm = loadExperiments(config.experimentsFile).defaultAlgorithm;
  try {
    console.log(
      `\nLists are served from ${config.store.kind === 'lmdb' ? config.store.path : 'Firestore'}; run artifacts are in ${config.artifactsDir}.`,
    );
    for (const [tenant, post] of SAMPLES) {
      const list = await store.getList(tenant, algorithm, post);
      if (!list) continue;
      console.log(
        `\nRelated to ${tenant} / ${titles.get(`${tenant}/${post}`)}  (${algorithm}, version ${list.version})`,
      );
      for (const item of list.items.slice(0, 5)) {
        console.log(`  ${item.score.toFixed(3)}  ${titles.get(`${tenant}/${item.postId}`)}`);
      }
    }
  } finally {
    await store.close();
  }
}

/**
 * Which tenants the experiments cannot enroll yet, which the API would log at start as one JSON
 * warning per experiment. The demo's smallest tenants are expected to be among them: below
 * pipeline.minPostsForEmbedding posts the batch gives a tenant popular lists only, by design, so
 * the demo says that in a sentence. A tenant not ready for another reason is a real problem: it
 * is logged as the API would log it.
 */
export async function reportReadiness(config: Config): Promise<void> {
  const store = openStore(config.store);
  try {
    const readiness = await experimentsReadiness(loadExperiments(config.experimentsFile), store);
    const small = [
      ...new Set(
        readiness.flatMap((r) =>
          r.notReady.filter((t) => t.serves === 'popular').map((t) => t.tenantId),
        ),
      ),
    ].sort();
    if (small.length > 0)
      console.log(
        `\nNot in the experiments yet: ${small.join(', ')}. A tenant below ${config.pipeline.minPostsForEmbedding} posts (pipeline.minPostsForEmbedding) gets popular lists only from the batch, so the experiments in ${config.experimentsFile} enroll its users once it has that many.`,
      );
    const others = readiness.map((r) => ({
      ...r,
      notReady: r.notReady.filter((t) => t.serves !== 'popular'),
    }));
    for (const line of readinessWarnings(others)) log.warn(line);
  } finally {
    await store.close();
  }
}

/**
 * Serves the results through the real API with a demo key, and shows one answer of each kind:
 * the default list, and an A/B assignment from experiments.yaml. `serve` keeps it running.
 */
async function serveDemo(config: Config, serve: boolean, alsoKept: string[]): Promise<void> {
  const keysFile = path.join(
    path.dirname(config.warehouse.kind === 'duckdb' ? config.warehouse.path : config.artifactsDir),
    'demo-api-keys.json',
  );
  rmSync(keysFile, { force: true });
  const apiKey = addApiKey(keysFile, 'demo', ['*']);
  const server = await startServer(
    { ...config, api: { ...config.api, keysFile } },
    serve ? config.api.port : 0,
    { readinessReported: true },
  );
  try {
    const client = createClient({ baseUrl: server.url, apiKey });
    const plain = await client.related('ja-man2', 'open.2', { userId: 'demo-user', limit: 3 });
    console.log(
      `\nServed by the API at ${server.url}:\nGET /v1/tenants/ja-man2/posts/open.2/related?userId=demo-user&limit=3\n${JSON.stringify(plain)}`,
    );
    const footer = await client.related('en-man2', 'open.2', {
      userId: 'demo-user',
      surface: 'post-footer',
      limit: 3,
    });
    console.log(
      `With surface=post-footer (experiment ${footer.experiment}, variant ${footer.variant}):\n${JSON.stringify(footer.items)}`,
    );
    await keepRunning([
      ...(serve
        ? [
            `The API keeps running. Try:\n  curl -H 'Authorization: Bearer ${apiKey}' '${server.url}/v1/tenants/en-man3/posts/printf.3/related?userId=me'`,
          ]
        : []),
      ...alsoKept,
    ]);
  } finally {
    await server.close();
  }
}

export interface DemoCommandOptions {
  keepServer?: boolean;
  serve?: boolean;
  /** Replace tenants in the warehouse that the demo did not load, without asking. */
  replace?: boolean;
}

export async function demoCommand(options: DemoCommandOptions): Promise<void> {
  if (!existsSync(DEMO_POSTS))
    throw new ConfigError(`${DEMO_POSTS} is missing: run from the repository root.`);
  const config = loadConfig();
  const posts = gunzipSync(readFileSync(DEMO_POSTS))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as DemoPost);
  // Before the warehouse changes: a model.dir that is not there, or an experiments file with an
  // error (every tenant would fail on it), stops the demo with nothing loaded.
  loadExperiments(config.experimentsFile);
  describeModel(config);
  if (!(await loadDemoData(config, posts, options.replace ?? false))) {
    console.log('Nothing changed.');
    return;
  }
  const { ok, keptServer } = await runBatchAnyhow(
    config,
    defaultRunId(),
    options.keepServer ?? false,
  );
  // Kept after the whole tour has printed (and with the API, when --serve keeps that too).
  const kept = keptServer
    ? [`The Temporal dev server keeps running for its UI: ${keptServer.workflowUrl}`]
    : [];
  try {
    if (!ok) {
      await keepRunning(kept);
      throw new ConfigError(
        'The batch failed for the tenants above, so their lists were not updated: fix the cause, or start over with `osusume reset --yes`.',
      );
    }
    await printSamples(config, posts);
    await reportReadiness(config);
    await serveDemo(config, options.serve ?? false, kept);
  } finally {
    await keptServer?.stop();
  }
}
