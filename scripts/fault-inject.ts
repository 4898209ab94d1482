/**
 * Fault injection: kills the local batch, or the Temporal worker running the batch workflow,
 * with SIGKILL (a quarter at a random moment of the run, the rest at a random point of a chosen
 * step: every step, store and activate most often) and after every kill checks, through the
 * store and the API, that every tenant serves exactly one complete version (the one before the
 * kill, or the killed run's), that the killed run completes (re-run, or retried by Temporal on a
 * new worker), and that collection leaves no version or artifact that nothing references.
 *   osusume fault-inject [--kills 100] [--store lmdb|firestore] [--target batch|temporal] [--seed 1]
 * Firestore runs only against the emulator (FIRESTORE_EMULATOR_HOST), never a real project;
 * Temporal on a dev server started for the run.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../api/server.js';
import { LocalArtifactStore, readJsonLines, tenantFolder } from '../core/artifacts.js';
import { parseConfig, type Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { createRandom } from '../core/random.js';
import { openStore } from '../core/store/index.js';
import { wasActivated, type RecommendationStore, type RelatedList } from '../core/store/types.js';
import { DuckDbWarehouse } from '../core/warehouse/duckdb.js';
import { addApiKey } from './api-key.js';
import {
  batchTarget,
  temporalTarget,
  type Kill,
  type Target,
  type Timeline,
} from './fault-inject-targets.js';
import { startDevServer, type DevServer } from './temporal-dev-server.js';

export interface FaultInjectionOptions {
  kills: number;
  store: 'lmdb' | 'firestore';
  /** What is killed: the local batch (default) or the Temporal worker running the batch workflow. */
  target?: 'batch' | 'temporal';
  /** Temporal: the dev server to use (default: one started for the run and stopped after). */
  temporalServer?: DevServer;
  seed?: number;
  /** Aim every kill at a random point of one of these steps (default: see chooseKill). */
  aimAt?: string[];
  /**
   * Aimed kills fall within this many ms of their step's start (default: anywhere in the step,
   * as long as it took on the first run). A step's first writes are at its start: Firestore's
   * activate transaction is the first few tens of ms of a step that takes hundreds.
   */
  aimWithinMs?: number;
  /** One line per kill and check. */
  onProgress?: (line: string) => void;
}

export interface FaultInjectionReport {
  store: 'lmdb' | 'firestore';
  target: 'batch' | 'temporal';
  /** SIGKILLs that hit a running batch. */
  injections: number;
  /** The step each kill interrupted ('start': before the first step of any tenant). */
  killedIn: Record<string, number>;
  /** Temporal: steps retried on the next worker after the killed one stopped heartbeating. */
  retriedSteps: number;
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
  /** The longest re-run (or Temporal completion) after a kill. */
  maxRecoverySeconds: number;
  seconds: number;
}

const TENANTS: [string, number][] = [
  ['acme', 60],
  ['beta/jp', 40],
  ['tiny', 5],
];
/** Steps aimed at more often than the others (every step of a run is aimed at sometimes). */
const WEIGHTED = ['storePopular', 'storeLists', 'storeLists', 'activate', 'activate', 'activate'];
const WORDS = 'kernel memory printf socket thread signal file buffer stream parse format time'
  .split(' ')
  .concat('network packet route cache disk user group shell locale string number'.split(' '));

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

/** The run's configuration, rooted in `dir` (raw, as a worker process reads it). */
function rawConfig(dir: string, options: FaultInjectionOptions) {
  writeFileSync(
    path.join(dir, 'experiments.yaml'),
    'experiments:\n  - { id: ab, surface: s, variants: [{ name: a, algorithm: fielded }, { name: b, algorithm: embedding }] }\n',
  );
  const at = (name: string) => path.join(dir, name);
  // An empty model folder, set: every tenant trains its own model, whatever the checkout's
  // default model folder holds (the temporal target's worker runs in the checkout).
  mkdirSync(at('model'));
  return {
    warehouse: { kind: 'duckdb', path: at('warehouse.duckdb') },
    store:
      options.store === 'lmdb'
        ? { kind: 'lmdb', path: at('store.lmdb') }
        : { kind: 'firestore', projectId: 'osusume-fault', collection: `fault${Date.now()}` },
    artifactsDir: at('artifacts'),
    model: { dir: at('model'), lsaDim: 16 },
    experimentsFile: at('experiments.yaml'),
    // Collect at once what a kill left (one run at a time here).
    pipeline: { minPostsForEmbedding: 10, supersededGraceSeconds: 1, abandonedGraceHours: 0 },
    api: {
      reloadSeconds: 0.2,
      storeTimeoutMs: 500,
      logsDir: at('logs'),
      keysFile: at('keys.json'),
    },
    temporal: { taskQueue: `osusume-fault-${process.pid}`, heartbeatTimeout: '2s' },
  };
}

/**
 * Where the next kill goes: every fourth at a random moment of the run, the others at a random
 * point of a step (any step of the run, or before the first: 'start'; store and activate most).
 */
function chooseKill(
  i: number,
  random: () => number,
  timeline: Timeline,
  options: FaultInjectionOptions,
): Kill {
  const { aimAt, aimWithinMs } = options;
  if (!aimAt && i % 4 === 1) return { afterMs: random() * timeline.runMs };
  const steps = aimAt ?? ['start', ...timeline.steps.keys(), ...WEIGHTED];
  const step = steps[Math.floor(random() * steps.length)]!;
  if (step === 'start') return { afterMs: random() * (aimWithinMs ?? timeline.startMs) };
  return { atStep: step, delayMs: random() * (aimWithinMs ?? timeline.steps.get(step)!) };
}

/** Kills aimed at a step the run does not have would never come. */
function checkAim(aimAt: string[] | undefined, timeline: Timeline): void {
  const steps = ['start', ...timeline.steps.keys()];
  const unknown = (aimAt ?? []).filter((step) => !steps.includes(step));
  if (unknown.length > 0)
    throw new ConfigError(
      `--aim: no step ${unknown.join(', ')} in this run; aim at one of ${steps.join(', ')}.`,
    );
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
  const raw = rawConfig(dir, options);
  const configFile = path.join(dir, 'osusume.config.yaml');
  writeFileSync(configFile, JSON.stringify(raw, null, 2)); // JSON is YAML
  const config: Config = parseConfig(raw, dir);
  const warehouse = await DuckDbWarehouse.open(path.join(dir, 'warehouse.duckdb'));
  await warehouse.importFile('posts', writeData(dir, options.seed ?? 1));
  await warehouse.close();
  const key = addApiKey(config.api.keysFile, 'fault', ['*']);
  const artifacts = new LocalArtifactStore(config.artifactsDir);
  const report: FaultInjectionReport = {
    store: options.store,
    target: options.target ?? 'batch',
    injections: 0,
    killedIn: {},
    retriedSteps: 0,
    tornVersions: 0,
    apiMismatches: 0,
    apiChecks: 0,
    failedReruns: 0,
    leakedBytes: 0,
    leakedVersions: 0,
    artifactBytes: 0,
    maxArtifactBytes: 0,
    maxRecoverySeconds: 0,
    seconds: 0,
  };

  const ownServer =
    options.target === 'temporal' && !options.temporalServer ? await startDevServer() : undefined;
  const server = options.temporalServer ?? ownServer!;
  const target: Target =
    options.target === 'temporal'
      ? temporalTarget(
          server,
          config,
          raw,
          TENANTS.map(([t]) => t),
        )
      : batchTarget(configFile);
  const store = openStore(config.store);
  const api = await startServer(config, 0);
  try {
    const first = await target.run('r0000');
    if (!first.ok) throw new Error(`The batch failed before any kill:\n${first.detail}`);
    checkAim(options.aimAt, target.timeline());
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
      const kill = chooseKill(i, random, target.timeline(), options);
      const killedIn = await target.inject(runId, kill);
      if (killedIn !== null) {
        report.injections += 1;
        report.killedIn[killedIn] = (report.killedIn[killedIn] ?? 0) + 1;
      }
      const before = new Map(served);
      await check((t) => [before.get(t)!, runId]);
      const recovering = Date.now();
      const recovered = await target.recover(runId);
      const recoverySeconds = (Date.now() - recovering) / 1000;
      report.maxRecoverySeconds = Math.max(report.maxRecoverySeconds, recoverySeconds);
      if (!recovered.ok) {
        report.failedReruns += 1;
        progress(`  RE-RUN FAILED: ${recovered.detail}`);
      }
      await check(() => [runId]);
      const bytes = bytesUnder(config.artifactsDir);
      report.maxArtifactBytes = Math.max(report.maxArtifactBytes, bytes);
      progress(
        `[${i}/${options.kills}] ${killedIn !== null ? `killed in ${killedIn}` : 'finished before the kill'}; re-run ${recovered.ok ? 'ok' : 'FAILED'} in ${recoverySeconds.toFixed(1)} s; artifacts ${bytes} bytes`,
      );
    }

    // A last run after the grace: what the kills left must be collected by now.
    await new Promise((r) => setTimeout(r, config.pipeline.supersededGraceSeconds * 1000 + 100));
    if (!(await target.run('zfinal')).ok) report.failedReruns += 1;
    await check(() => ['zfinal']);
    report.retriedSteps = target.retriedSteps();
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
    await target.close();
    await ownServer?.teardown();
    await api.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  report.seconds = Math.round((Date.now() - started) / 1000);
  return report;
}

function formatFaultReport(r: FaultInjectionReport): string {
  const steps = Object.entries(r.killedIn)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([step, n]) => `${step} ${n}`)
    .join(', ');
  return [
    `Fault injection on ${r.store}: ${r.injections} SIGKILLs of ${r.target === 'batch' ? 'the batch' : 'Temporal workers'} (${steps}) in ${r.seconds} s`,
    `  torn or unexpected versions: ${r.tornVersions}; API answers naming another version or empty: ${r.apiMismatches} of ${r.apiChecks}`,
    `  failed re-runs: ${r.failedReruns} (longest ${r.maxRecoverySeconds.toFixed(1)} s)${r.target === 'temporal' ? `; steps Temporal retried after their worker died: ${r.retriedSteps}` : ''}`,
    `  after collection: ${r.leakedBytes} leaked bytes, ${r.leakedVersions} never-activated versions; artifacts ${r.artifactBytes} bytes (largest after a re-run: ${r.maxArtifactBytes})`,
  ].join('\n');
}

export async function faultInjectCommand(options: {
  kills: number;
  store: 'lmdb' | 'firestore';
  target: 'batch' | 'temporal';
  seed?: number;
  aim?: string[];
  aimWithin?: number;
}): Promise<void> {
  const { aim, aimWithin, ...rest } = options;
  if (aimWithin !== undefined && aim === undefined)
    throw new ConfigError(
      '--aim-within goes with --aim: name the steps to aim at (--aim activate), or leave out --aim-within.',
    );
  const report = await faultInjection({
    ...rest,
    aimAt: aim,
    aimWithinMs: aimWithin,
    onProgress: (l) => console.error(l),
  });
  console.log(formatFaultReport(report));
  if (report.tornVersions + report.apiMismatches + report.failedReruns + report.leakedBytes > 0)
    process.exitCode = 1;
}
