/**
 * osusume bench api (npm run bench:api) — the related-posts endpoint on the LMDB store against a bare Hono handler
 * returning a constant (this machine's ceiling for an HTTP JSON response), both served by
 * @hono/node-server in a child process and loaded by autocannon from this one.
 * 1. Throughput: as fast as each goes, in alternating rounds (ratio = median related / median
 *    ceiling requests/s; goal >= 0.7).
 * 2. Latency: the related endpoint at half the ceiling's rate (goal: p99 <= 5 ms), and at half its
 *    own maximum (what one instance sustains, for capacity planning).
 * A third server, the ceiling's handler after 10 µs of busy work, calibrates the ratio: it shows
 * what a handler that does almost nothing of its own reaches on this machine. A fourth, the same
 * API with `api.fastPath: false`, shows what the fast path saves (every request through Hono).
 * Goals (issue 16): throughput ratio >= 0.6, CPU ratio >= 0.55, and p99 at half the endpoint's own
 * maximum at most 2x the ceiling's p99 at that rate. With BENCH_BASELINE=<another checkout>, that
 * checkout's related endpoint is loaded in the same rounds too: a change measured side by side with
 * the code before it. Every run prints the machine's load average: other work skews all figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import { LmdbStore } from '../core/store/lmdb.js';
import { addApiKey } from '../scripts/api-key.js';
import { checkoutFile } from '../scripts/files.js';
import { benchEnv, KNOBS } from './env.js';

const POSTS = 10_000;
const CONNECTIONS = 32;
const WARMUP = 3;
const CALIBRATION_WORK_US = 10;
const ROUNDS = 3;
const PACED_WARMUP_SECONDS = 3;

export async function seed(dir: string): Promise<string> {
  const store = new LmdbStore(path.join(dir, 'store.lmdb'));
  const lists = Array.from({ length: POSTS }, (_, i) => ({
    postId: `p${i}`,
    items: Array.from({ length: 20 }, (_, j) => ({
      postId: `p${(i + j * 37 + 1) % POSTS}`,
      score: 1 - j / 40,
    })),
  }));
  for (let s = 0; s < lists.length; s += 2000)
    await store.writeLists('acme', 'v1', 'embedding', lists.slice(s, s + 2000));
  await store.writePopular('acme', 'v1', lists[0]!.items);
  await store.activate(
    'acme',
    { version: 'v1', activatedAt: '', algorithms: ['embedding', 'popular'], lists: POSTS },
    2,
  );
  await store.close();
  writeFileSync(
    path.join(dir, 'experiments.yaml'),
    'experiments:\n  - { id: ab, surface: footer, variants: [{ name: a, algorithm: embedding }, { name: b, algorithm: popular }] }\n',
  );
  return addApiKey(path.join(dir, 'keys.json'), 'bench', ['acme']);
}

/** A server on a free port (other benchmarks may run on the same machine). */
export async function start(
  args: string[],
  nodeFlags: string[] = [],
  // The checkout whose bench/api-target.ts runs (and whose tsx `--import` resolves): this one
  // unless BENCH_BASELINE names another, whatever folder the bench was started in.
  cwd = checkoutFile('.'),
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', 'bench/api-target.ts', ...args],
    { cwd, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const ready = /ready (\d+)/.exec(d.toString());
      if (ready) resolve(ready[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/** CPU seconds a server process has used (Linux /proc; null elsewhere). */
export function cpuSeconds(child: ChildProcess): number | null {
  const file = `/proc/${child.pid}/stat`;
  if (!existsSync(file)) return null;
  const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}

/**
 * Times the server's main thread was switched out (Linux /proc; null elsewhere): involuntary
 * switches are preemptions, e.g. by the load generator it has just woken on the same core.
 */
function involuntarySwitches(child: ChildProcess): number | null {
  const file = `/proc/${child.pid}/status`;
  if (!existsSync(file)) return null;
  const found = /^nonvoluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(file, 'utf8'));
  return found ? Number(found[1]) : null;
}

/**
 * A load round, with the server's CPU time per request (µs): what each request really costs;
 * and its preemptions per request, which that cost includes (a switch and a colder cache).
 */
async function round(
  server: ChildProcess,
  url: string,
  apiKey: string,
  seconds: number,
): Promise<
  autocannon.Result & { cpuUsPerRequest: number | null; preemptionsPerRequest: number | null }
> {
  const before = cpuSeconds(server);
  const switchesBefore = involuntarySwitches(server);
  const result = await load(url, apiKey, seconds);
  const after = cpuSeconds(server);
  const switchesAfter = involuntarySwitches(server);
  const cpu = before === null || after === null ? null : after - before;
  const switches =
    switchesBefore === null || switchesAfter === null ? null : switchesAfter - switchesBefore;
  return {
    ...result,
    cpuUsPerRequest: cpu === null ? null : Math.round((cpu * 1e6) / result.requests.total),
    preemptionsPerRequest:
      switches === null ? null : +(switches / result.requests.total).toFixed(3),
  };
}

export async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill();
  await exited;
}

/** The n-th request's path: a spread of posts and users, half of them on the A/B-tested surface. */
function requestPath(n: number): string {
  const surface = n % 2 === 0 ? '&surface=footer' : '';
  return `/v1/tenants/acme/posts/p${(n * 7919) % POSTS}/related?userId=u${n % 5000}&limit=10${surface}`;
}

/** Closed-loop load as fast as the server answers (throughput). */
export function load(url: string, apiKey: string, duration: number): Promise<autocannon.Result> {
  let n = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    headers: { authorization: `Bearer ${apiKey}` },
    requests: [
      {
        setupRequest: (req) => {
          n += 1;
          req.path = requestPath(n);
          return req;
        },
      },
    ],
  });
}

interface PacedLatency {
  rate: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  /** Share of the counted requests the probe itself sent over LATE_MS after they were due. */
  lateShare: number;
}

/**
 * A probe that sends requests this late is behind its own schedule: on 2 cores its process, not
 * the server, then sets the latencies (at 14,000 req/s the Node client needs most of a core).
 */
const LATE_MS = 5;
const MAX_LATE_SHARE = 0.01;

/**
 * One keep-alive connection of the latency probe, speaking just enough HTTP/1.1 for these
 * servers' answers (every one carries Content-Length): a request is written as prepared bytes,
 * and the answer is found by its length. Node's own client costs tens of µs per request, which
 * at half the endpoint's maximum (about 14,000 req/s) took most of the probe's core and made it
 * fall behind its own schedule.
 */
class ProbeConnection {
  private readonly socket: Socket;
  private received: Buffer = Buffer.alloc(0);
  private onAnswer: ((status: number) => void) | undefined;

  /** `onClose` is told whether a request was waiting for its answer when the socket closed. */
  constructor(port: number, onClose: (inFlight: boolean) => void) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    // An error closes the socket; the close tells.
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      const inFlight = this.onAnswer !== undefined;
      this.onAnswer = undefined;
      onClose(inFlight);
    });
  }

  send(request: string, onAnswer: (status: number) => void): void {
    this.onAnswer = onAnswer;
    this.socket.write(request);
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    const headEnd = this.received.indexOf('\r\n\r\n');
    if (headEnd === -1) return;
    const head = this.received.toString('latin1', 0, headEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    const bodyEnd = headEnd + 4 + Number(length?.[1] ?? NaN);
    if (!(this.received.length >= bodyEnd)) return;
    this.received = this.received.subarray(bodyEnd);
    const done = this.onAnswer;
    this.onAnswer = undefined;
    done?.(Number(head.slice(9, 12)));
  }
}

/**
 * Open-loop load at a steady rate (latency). autocannon's `overallRate` sends each second's
 * quota in a burst at the start of the second, which measures queueing behind the burst; here
 * request i is due at start + i/rate, and its latency counts from then (a late send is the
 * server's delay too, so a slow server cannot hide it by slowing the sender). A request due while
 * all 256 connections wait for answers waits for the first free one. The first
 * PACED_WARMUP_SECONDS open the connections and are not counted: they open as the rate needs
 * them, and the related server took 1–2 s to absorb that ramp (latencies of 0.5–0.8 s in its
 * first 0.75 s, 10–30 ms after), which is start-up, not the steady rate this probe measures.
 */
async function paced(
  url: string,
  apiKey: string,
  rate: number,
  duration: number,
): Promise<PacedLatency> {
  const port = Number(new URL(url).port);
  const warmup = Math.round(rate * PACED_WARMUP_SECONDS);
  const total = warmup + Math.round(rate * duration);
  const latencies: number[] = [];
  const connections: ProbeConnection[] = [];
  const idle: ProbeConnection[] = [];
  const waiting: number[] = [];
  let errors = 0;
  let finished = 0;
  let sent = 0;
  let late = 0;
  const start = performance.now();
  const due = (i: number) => start + (i / rate) * 1000;
  await new Promise<void>((resolve) => {
    const done = () => {
      if (++finished === total) resolve();
    };
    const send = (connection: ProbeConnection, i: number) =>
      connection.send(
        `GET ${requestPath(i)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${apiKey}\r\n\r\n`,
        (status) => {
          if (status !== 200) errors += 1;
          else if (i >= warmup) latencies.push(performance.now() - due(i));
          const next = waiting.shift();
          if (next === undefined) idle.push(connection);
          else send(connection, next);
          done();
        },
      );
    const open = () => {
      const connection = new ProbeConnection(port, (inFlight) => {
        // A connection the server closed (idle too long) is dropped; one that broke under a
        // request fails that request. The others carry on.
        for (const list of [connections, idle])
          if (list.includes(connection)) list.splice(list.indexOf(connection), 1);
        if (inFlight) {
          errors += 1;
          done();
        }
      });
      connections.push(connection);
      return connection;
    };
    const tick = () => {
      const dueNow = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      for (; sent < dueNow; sent++) {
        if (sent >= warmup && performance.now() - due(sent) > LATE_MS) late += 1;
        const connection = idle.pop() ?? (connections.length < 256 ? open() : undefined);
        if (connection) send(connection, sent);
        else waiting.push(sent);
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  for (const connection of [...connections]) connection.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => +(latencies[Math.floor(q * (latencies.length - 1))] ?? NaN).toFixed(2);
  return {
    rate,
    requests: latencies.length,
    errors,
    p50: at(0.5),
    p99: at(0.99),
    lateShare: +(late / (total - warmup)).toFixed(4),
  };
}

/** The machine's 1-minute load average: other work on the same cores skews every figure. */
const load1 = () => +loadavg()[0]!.toFixed(2);

export async function run(): Promise<void> {
  const { seconds, baseline: baselineDir } = benchEnv(KNOBS.api);
  const startedAt = new Date().toISOString();
  const loadBefore = load1();
  const dir = mkdtempSync(path.join(tmpdir(), 'osusume-bench-api-'));
  const apiKey = await seed(dir);
  // This machine's speed drifts by 2x within minutes: both servers run side by side (only one is
  // loaded at a time), in alternating rounds, and the medians are compared.
  const { child: ceilingServer, url: ceilingUrl } = await start(['ceiling', '0']);
  const { child: relatedServer, url: relatedUrl } = await start(['related', '0', dir]);
  const { child: workServer, url: workUrl } = await start([
    'ceiling',
    '0',
    String(CALIBRATION_WORK_US),
  ]);
  const { child: honoServer, url: honoUrl } = await start(['related', '0', dir, 'hono']);
  const baseline = baselineDir ? await start(['related', '0', dir], [], baselineDir) : undefined;
  for (const url of [ceilingUrl, relatedUrl, workUrl, honoUrl, baseline?.url])
    if (url) await load(url, apiKey, WARMUP);
  const ceilings: Awaited<ReturnType<typeof round>>[] = [];
  const relateds: Awaited<ReturnType<typeof round>>[] = [];
  const works: Awaited<ReturnType<typeof round>>[] = [];
  const honos: Awaited<ReturnType<typeof round>>[] = [];
  const baselines: Awaited<ReturnType<typeof round>>[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ceilings.push(await round(ceilingServer, ceilingUrl, apiKey, seconds));
    relateds.push(await round(relatedServer, relatedUrl, apiKey, seconds));
    works.push(await round(workServer, workUrl, apiKey, seconds));
    honos.push(await round(honoServer, honoUrl, apiKey, seconds));
    if (baseline) baselines.push(await round(baseline.child, baseline.url, apiKey, seconds));
  }
  const median = <R extends autocannon.Result>(results: R[]) =>
    [...results].sort((a, b) => a.requests.average - b.requests.average)[
      Math.floor(results.length / 2)
    ]!;
  const ceiling = median(ceilings);
  const related = median(relateds);
  const worked = median(works);
  const hono = median(honos);
  // The overloading probe last, so that its backlog cannot slow the others.
  const halfOwnRate = Math.round(related.requests.average / 2);
  const atHalfOwn = await paced(relatedUrl, apiKey, halfOwnRate, seconds);
  const ceilingAtHalfOwn = await paced(ceilingUrl, apiKey, halfOwnRate, seconds);
  const halfRate = Math.round(ceiling.requests.average / 2);
  const atHalfCeiling = await paced(relatedUrl, apiKey, halfRate, seconds);
  const loadAfter = load1();
  await stop(ceilingServer);
  await stop(relatedServer);
  await stop(workServer);
  await stop(honoServer);
  if (baseline) await stop(baseline.child);
  rmSync(dir, { recursive: true, force: true });

  const lateShare = (p: PacedLatency) => `${(p.lateShare * 100).toFixed(1)} %`;
  const errors =
    related.errors + related.non2xx + hono.non2xx + atHalfCeiling.errors + atHalfOwn.errors;
  const ratio = related.requests.average / ceiling.requests.average;
  const workRatio = worked.requests.average / ceiling.requests.average;
  // The same ratio from CPU cost per request, which drifts less than requests/s on a shared host.
  const cpuRatio =
    ceiling.cpuUsPerRequest && related.cpuUsPerRequest
      ? +(ceiling.cpuUsPerRequest / related.cpuUsPerRequest).toFixed(3)
      : null;
  console.log(
    `${startedAt}, load average (1 min) ${loadBefore} at the start, ${loadAfter} at the end on ${availableParallelism()} cores`,
  );
  console.log(
    `ceiling (bare Hono, constant JSON): ${ceiling.requests.average.toFixed(0)} req/s, p50 ${ceiling.latency.p50} ms, p99 ${ceiling.latency.p99} ms`,
  );
  console.log(
    `related (LMDB, experiments, logs):  ${related.requests.average.toFixed(0)} req/s, p50 ${related.latency.p50} ms, p99 ${related.latency.p99} ms`,
  );
  console.log(
    `related through Hono only (no fast path): ${hono.requests.average.toFixed(0)} req/s, CPU ${hono.cpuUsPerRequest} µs per request`,
  );
  console.log(
    `ceiling + ${CALIBRATION_WORK_US} µs of work:         ${worked.requests.average.toFixed(0)} req/s (ratio ${workRatio.toFixed(3)})`,
  );
  console.log(
    `server CPU per request: ceiling ${ceiling.cpuUsPerRequest} µs, related ${related.cpuUsPerRequest} µs (ratio by CPU ${cpuRatio}), ceiling + ${CALIBRATION_WORK_US} µs ${worked.cpuUsPerRequest} µs`,
  );
  console.log(
    `server preempted per request (involuntary context switches): ceiling ${ceiling.preemptionsPerRequest}, related ${related.preemptionsPerRequest}, ceiling + ${CALIBRATION_WORK_US} µs ${worked.preemptionsPerRequest}`,
  );
  console.log(
    `related at ${halfRate} req/s (half the ceiling): p50 ${atHalfCeiling.p50} ms, p99 ${atHalfCeiling.p99} ms; sent over ${LATE_MS} ms late by the probe: ${lateShare(atHalfCeiling)}`,
  );
  console.log(
    `related at ${halfOwnRate} req/s (half its own maximum): p50 ${atHalfOwn.p50} ms, p99 ${atHalfOwn.p99} ms (ceiling at that rate: p50 ${ceilingAtHalfOwn.p50} ms, p99 ${ceilingAtHalfOwn.p99} ms); errors/non-2xx ${errors}; sent over ${LATE_MS} ms late by the probe: ${lateShare(atHalfOwn)} and ${lateShare(ceilingAtHalfOwn)}`,
  );
  const baselined = baselines.length > 0 ? median(baselines) : undefined;
  if (baselined)
    console.log(
      `baseline (${baselineDir}): ${baselined.requests.average.toFixed(0)} req/s, CPU ${baselined.cpuUsPerRequest} µs per request per round ${baselines.map((b) => b.cpuUsPerRequest).join(', ')} (this checkout: ${relateds.map((r) => r.cpuUsPerRequest).join(', ')})`,
    );
  const p99Factor = +(atHalfOwn.p99 / ceilingAtHalfOwn.p99).toFixed(2);
  const probeBehind = Math.max(atHalfOwn.lateShare, ceilingAtHalfOwn.lateShare) > MAX_LATE_SHARE;
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const p99Verdict = probeBehind
    ? `not judged: the probe fell behind its own schedule, rerun on a quieter machine`
    : verdict(p99Factor <= 2);
  console.log(
    `goals: throughput ratio ${ratio.toFixed(3)} (>= 0.6 ${verdict(ratio >= 0.6)}), CPU ratio ${cpuRatio} (>= 0.55 ${verdict((cpuRatio ?? 0) >= 0.55)}), p99 at half its own maximum ${p99Factor}x the ceiling's (<= 2 ${p99Verdict})`,
  );
  console.log(
    JSON.stringify({
      bench: 'api',
      at: startedAt,
      loadBefore,
      loadAfter,
      cores: availableParallelism(),
      seconds,
      connections: CONNECTIONS,
      ceilingRps: Math.round(ceiling.requests.average),
      relatedRps: Math.round(related.requests.average),
      ratio: +ratio.toFixed(3),
      ratiosPerRound: ceilings.map(
        (c, i) => +(relateds[i]!.requests.average / c.requests.average).toFixed(3),
      ),
      ceilingPreemptionsPerRequest: ceiling.preemptionsPerRequest,
      relatedPreemptionsPerRequest: related.preemptionsPerRequest,
      ceilingCpuUsPerRequest: ceiling.cpuUsPerRequest,
      relatedCpuUsPerRequest: related.cpuUsPerRequest,
      cpuRatio,
      calibrationWorkUs: CALIBRATION_WORK_US,
      calibrationRatio: +workRatio.toFixed(3),
      calibrationCpuUsPerRequest: worked.cpuUsPerRequest,
      honoRouteRps: Math.round(hono.requests.average),
      honoRouteCpuUsPerRequest: hono.cpuUsPerRequest,
      halfRate,
      halfRateP50Ms: atHalfCeiling.p50,
      halfRateP99Ms: atHalfCeiling.p99,
      halfOwnRate,
      halfOwnRateP50Ms: atHalfOwn.p50,
      halfOwnRateP99Ms: atHalfOwn.p99,
      ceilingHalfOwnRateP50Ms: ceilingAtHalfOwn.p50,
      ceilingHalfOwnRateP99Ms: ceilingAtHalfOwn.p99,
      halfOwnRateP99Factor: p99Factor,
      halfOwnRateLateShare: atHalfOwn.lateShare,
      ceilingHalfOwnRateLateShare: ceilingAtHalfOwn.lateShare,
      halfRateLateShare: atHalfCeiling.lateShare,
      ...(baselined && {
        baselineRps: Math.round(baselined.requests.average),
        baselineCpuUsPerRequest: baselined.cpuUsPerRequest,
        relatedCpuUsPerRound: relateds.map((r) => r.cpuUsPerRequest),
        baselineCpuUsPerRound: baselines.map((b) => b.cpuUsPerRequest),
      }),
      errors,
    }),
  );
}
