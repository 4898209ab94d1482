/**
 * Fault injection: kills the local batch with SIGKILL at random moments (half at a random time,
 * half just after a chosen step starts, store and activate most often) and after every kill
 * checks, through the store and the API, that every tenant serves exactly one complete version
 * (the one before the kill, or the killed run's), that re-running the killed run succeeds, and
 * that collection leaves no version or artifact that nothing references.
 *   osusume fault-inject [--kills 100] [--store lmdb|firestore] [--seed 1]
 * Firestore runs only against the emulator (FIRESTORE_EMULATOR_HOST), never a real project.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../api/server.js';
import { LocalArtifactStore, readJsonLines, tenantFolder } from '../core/artifacts.js';
import { loadConfig, type Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { createRandom } from '../core/random.js';
import { openStore } from '../core/store/index.js';
import { wasActivated, type RecommendationStore, type RelatedList } from '../core/store/types.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';
import { addApiKey } from './api-key.js';

export interface FaultInjectionOptions {
  kills: number;
  store: 'lmdb' | 'firestore';
  seed?: number;
  /** Aim every kill just after one of these steps starts (default: half aimed, half at random times). */
  aimAt?: string[];
  /** One line per kill and check. */
  onProgress?: (line: string) => void;
}

export interface FaultInjectionReport {
  store: 'lmdb' | 'firestore';
  /** SIGKILLs that hit a running batch. */
  injections: number;
  /** The step each kill interrupted (from the batch's progress lines). */
  killedIn: Record<string, number>;
  /** Tenants whose served version was incomplete, or neither the old nor the new one. */
  tornVersions: number;
  /** API answers naming another version than the store's pointer, or failing. */
  apiMismatches: number;
  apiChecks: number;
  failedReruns: number;
  /** After the final run's collection: bytes of artifacts no kept version references. */
  leakedBytes: number;
  /** After it: versions that were never activated and are still stored. */
  leakedVersions: number;
  /** Bytes of the artifact folder after the final run (referenced artifacts). */
  artifactBytes: number;
  /** The largest artifact folder seen after a re-run (it must not grow with the kills). */
  maxArtifactBytes: number;
  seconds: number;
}

const TENANTS: [string, number][] = [
  ['acme', 60],
  ['beta/jp', 40],
  ['tiny', 5],
];
/** Where kills are aimed when aimed: store and activate most often, every step sometimes. */
const AIMED = ['storePopular', 'storeLists', 'activate', 'activate', 'storeLists', 'extract'];
const AIMED_ANY = ['popular', 'embed', 'neighbours', 'fielded', 'lexical'];
const WORDS = 'kernel memory printf socket thread signal file buffer stream parse format time'
  .split(' ')
  .concat('network packet route cache disk user group shell locale string number'.split(' '));
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

function writeData(dir: string, seed: number): string {
  const random = createRandom(seed);
  const pick = () => WORDS[Math.floor(random() * WORDS.length)]!;
  const rows = TENANTS.flatMap(([tenantId, count]) =>
    Array.from({ length: count }, (_, i) => {
      const ts = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
      return {
        tenantId,
        postId: `p${i}`,
        title: `${pick()} ${pick()}`,
        body: Array.from({ length: 20 }, pick).join(' '),
        createdAt: ts,
        updatedAt: ts,
      };
    }),
  );
  const file = path.join(dir, 'posts.jsonl');
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

function writeConfig(dir: string, store: FaultInjectionOptions['store']): string {
  const storeYaml =
    store === 'lmdb'
      ? '{ kind: lmdb, path: store.lmdb }'
      : `{ kind: firestore, projectId: osusume-fault, collection: fault${Date.now()} }`;
  writeFileSync(
    path.join(dir, 'experiments.yaml'),
    'experiments:\n  - { id: ab, surface: s, variants: [{ name: a, algorithm: fielded }, { name: b, algorithm: embedding }] }\n',
  );
  const file = path.join(dir, 'osusume.config.yaml');
  writeFileSync(
    file,
    [
      'warehouse: { kind: duckdb, path: warehouse.duckdb }',
      `store: ${storeYaml}`,
      'artifactsDir: artifacts',
      'model: { dir: model, lsaDim: 16 }',
      'experimentsFile: experiments.yaml',
      // Collect at once what a kill left (the batch runs one at a time here).
      'pipeline: { minPostsForEmbedding: 10, supersededGraceSeconds: 1, abandonedGraceHours: 0 }',
      'api: { reloadSeconds: 0.2, storeTimeoutMs: 500, logsDir: logs, keysFile: keys.json }',
    ].join('\n') + '\n',
  );
  return file;
}

interface BatchRun {
  code: number | null;
  killed: boolean;
  lastStep: string;
  stderr: string;
}

/** The batch in a child process, killed as `kill` decides from its progress lines. */
function runBatch(
  configFile: string,
  runId: string,
  kill?: { afterMs?: number; atStep?: string; delayMs: number },
): Promise<BatchRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'batch', '--run-id', runId], {
      env: { ...process.env, OSUSUME_CONFIG: configFile, CI: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let lastStep = 'start';
    let killed = false;
    const killNow = () => {
      if (child.exitCode !== null || killed) return;
      killed = child.kill('SIGKILL');
    };
    if (kill?.afterMs !== undefined) setTimeout(killNow, kill.afterMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const m of chunk.toString().matchAll(/^ {2}\S+: (\w+)$/gm)) {
        if (!killed) lastStep = m[1]!;
        if (kill?.atStep === m[1]) setTimeout(killNow, kill?.delayMs);
      }
    });
    child.on('exit', (code) => resolve({ code, killed, lastStep, stderr }));
  });
}

/** Whether the tenant's active version is whole: every list its run computed is stored as is. */
async function versionIsWhole(
  store: RecommendationStore,
  artifacts: LocalArtifactStore,
  tenantId: string,
  version: string,
  algorithms: string[],
): Promise<boolean> {
  if (!(await store.getPopularAt(tenantId, version))) return false;
  for (const algorithm of algorithms) {
    const uri = artifacts.uri('runs', version, tenantFolder(tenantId), `lists-${algorithm}.jsonl`);
    if (!(await artifacts.exists(uri))) continue; // popular has no per-post lists above the threshold
    for (const list of await readJsonLines<RelatedList>(artifacts, uri)) {
      const stored = await store.getListAt(tenantId, version, algorithm, list.postId);
      if (JSON.stringify(stored) !== JSON.stringify(list.items)) return false;
    }
  }
  return true;
}

function bytesUnder(p: string): number {
  let total = 0;
  for (const entry of readdirSync(p, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) total += statSync(path.join(entry.parentPath, entry.name)).size;
  return total;
}

export async function faultInjection(
  options: FaultInjectionOptions,
): Promise<FaultInjectionReport> {
  if (options.store === 'firestore' && !process.env.FIRESTORE_EMULATOR_HOST)
    throw new ConfigError(
      'Fault injection on Firestore runs against the emulator only: start it (gcloud emulators firestore start) and set FIRESTORE_EMULATOR_HOST.',
    );
  const started = Date.now();
  const random = createRandom(options.seed ?? 1);
  const progress = options.onProgress ?? (() => {});
  const dir = mkdtempSync(path.join(tmpdir(), 'osusume-fault-'));
  const configFile = writeConfig(dir, options.store);
  const config: Config = loadConfig({ OSUSUME_CONFIG: configFile }, dir);
  const warehouse = await DuckDbWarehouse.open(path.join(dir, 'warehouse.duckdb'));
  await warehouse.importFile('posts', writeData(dir, options.seed ?? 1));
  await warehouse.close();
  const key = addApiKey(config.api.keysFile, 'fault', ['*']);
  const artifacts = new LocalArtifactStore(config.artifactsDir);
  const report: FaultInjectionReport = {
    store: options.store,
    injections: 0,
    killedIn: {},
    tornVersions: 0,
    apiMismatches: 0,
    apiChecks: 0,
    failedReruns: 0,
    leakedBytes: 0,
    leakedVersions: 0,
    artifactBytes: 0,
    maxArtifactBytes: 0,
    seconds: 0,
  };

  const timing = Date.now();
  const first = await runBatch(configFile, 'r0000');
  if (first.code !== 0) throw new Error(`The batch failed before any kill:\n${first.stderr}`);
  const runMs = Date.now() - timing;
  const store = openStore(config.store);
  const api = await startServer(config, 0);
  try {
    let served = new Map<string, string>();
    for (const [t] of TENANTS) served.set(t, (await store.getActive(t))!.version);

    /** Every tenant serves a whole version, one of `allowed`; the API names the same one. */
    const check = async (allowed: (tenantId: string) => string[]): Promise<void> => {
      await new Promise((r) => setTimeout(r, config.api.reloadSeconds * 1000 + 100));
      const now = new Map<string, string>();
      for (const [tenantId, posts] of TENANTS) {
        const active = await store.getActive(tenantId);
        const whole =
          active !== null &&
          allowed(tenantId).includes(active.version) &&
          (await versionIsWhole(store, artifacts, tenantId, active.version, active.algorithms));
        if (!whole) {
          report.tornVersions += 1;
          progress(`  TORN: ${tenantId} serves ${active?.version ?? 'nothing'}`);
        }
        if (active) now.set(tenantId, active.version);
        for (const postId of ['p0', `p${posts - 1}`]) {
          report.apiChecks += 1;
          const res = await fetch(
            `${api.url}/v1/tenants/${encodeURIComponent(tenantId)}/posts/${postId}/related?userId=u1`,
            { headers: { authorization: `Bearer ${key}` } },
          );
          const body = (await res.json()) as { version?: string; items?: unknown[] };
          if (res.status !== 200 || body.version !== active?.version || !body.items?.length) {
            report.apiMismatches += 1;
            progress(`  API: ${tenantId}/${postId} ${res.status} ${body.version}`);
          }
        }
      }
      served = now;
    };

    for (let i = 1; i <= options.kills; i++) {
      const runId = `r${String(i).padStart(4, '0')}`;
      const aimed = options.aimAt !== undefined || i % 2 === 1;
      const steps = options.aimAt ?? (random() < 0.75 ? AIMED : AIMED_ANY);
      const kill = aimed
        ? { atStep: steps[Math.floor(random() * steps.length)]!, delayMs: random() * 30 }
        : { afterMs: random() * runMs, delayMs: 0 };
      const run = await runBatch(configFile, runId, kill);
      if (run.killed) {
        report.injections += 1;
        report.killedIn[run.lastStep] = (report.killedIn[run.lastStep] ?? 0) + 1;
      }
      const before = new Map(served);
      await check((t) => [before.get(t)!, runId]);
      const rerun = await runBatch(configFile, runId);
      if (rerun.code !== 0) {
        report.failedReruns += 1;
        progress(`  RE-RUN FAILED: ${rerun.stderr.slice(-500)}`);
      }
      await check(() => [runId]);
      const bytes = bytesUnder(config.artifactsDir);
      report.maxArtifactBytes = Math.max(report.maxArtifactBytes, bytes);
      progress(
        `[${i}/${options.kills}] ${run.killed ? `killed in ${run.lastStep}` : 'finished before the kill'}; re-run ${rerun.code === 0 ? 'ok' : 'FAILED'}; artifacts ${bytes} bytes`,
      );
    }

    // A last run after the grace: what the kills left must be collected by now.
    await new Promise((r) => setTimeout(r, config.pipeline.supersededGraceSeconds * 1000 + 100));
    if ((await runBatch(configFile, 'zfinal')).code !== 0) report.failedReruns += 1;
    await check(() => ['zfinal']);
    for (const [tenantId] of TENANTS) {
      const versions = await store.listVersions(tenantId);
      report.leakedVersions += versions.filter((v) => !wasActivated(v)).length;
      const kept = new Set(versions.map((v) => v.version));
      for (const run of readdirSync(path.join(config.artifactsDir, 'runs'))) {
        const folder = path.join(config.artifactsDir, 'runs', run, tenantFolder(tenantId));
        if (!kept.has(run) && statSync(folder, { throwIfNoEntry: false }))
          report.leakedBytes += bytesUnder(folder);
      }
    }
    for (const entry of readdirSync(config.artifactsDir, { recursive: true, withFileTypes: true }))
      if (entry.name.includes('.tmp-'))
        report.leakedBytes += statSync(path.join(entry.parentPath, entry.name)).size;
    report.artifactBytes = bytesUnder(config.artifactsDir);
  } finally {
    await api.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  report.seconds = Math.round((Date.now() - started) / 1000);
  return report;
}

export function formatFaultReport(r: FaultInjectionReport): string {
  const steps = Object.entries(r.killedIn)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([step, n]) => `${step} ${n}`)
    .join(', ');
  return [
    `Fault injection on ${r.store}: ${r.injections} SIGKILLs of the batch (${steps}) in ${r.seconds} s`,
    `  torn or unexpected versions: ${r.tornVersions}; API answers naming another version or empty: ${r.apiMismatches} of ${r.apiChecks}`,
    `  failed re-runs: ${r.failedReruns}`,
    `  after collection: ${r.leakedBytes} leaked bytes, ${r.leakedVersions} never-activated versions; artifacts ${r.artifactBytes} bytes (largest after a re-run: ${r.maxArtifactBytes})`,
  ].join('\n');
}

export async function faultInjectCommand(options: {
  kills: number;
  store: 'lmdb' | 'firestore';
  seed?: number;
}): Promise<void> {
  const report = await faultInjection({ ...options, onProgress: (l) => console.error(l) });
  console.log(formatFaultReport(report));
  if (report.tornVersions + report.apiMismatches + report.failedReruns + report.leakedBytes > 0)
    process.exitCode = 1;
}
