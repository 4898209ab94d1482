/**
 * osusume bench api-profile (npm run bench:api-profile) — where the related endpoint's CPU time
 * goes: the server of `bench api` (same data and requests, fast path on) runs with
 * `--perf-basic-prof` under the same closed-loop load while Linux `perf` samples its CPU time
 * (`-e cpu-clock`, a software event: these VMs expose no hardware counters, which
 * `perf stat -e instructions true` shows as "not supported"). JavaScript frames are named from
 * the map file Node writes. Prints the server's CPU time per request (from /proc, perf's own
 * overhead included), the share of samples by part with its µs per request (JavaScript, V8 runtime
 * and garbage collection, Node and libuv, kernel: sockets and syscalls, LMDB, libc) and the top
 * symbols. BENCH_TARGET=hono profiles the same API without the fast path, BENCH_TARGET=ceiling
 * the bare Hono handler, for comparison. Needs Debian's `linux-perf` (`perf` on PATH); Linux only.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cpuSeconds, load, seed, start, stop } from './api.js';
import { benchEnv, KNOBS } from './env.js';

const TOP = 30;
const TARGETS = {
  related: (dir: string) => ['related', '0', dir],
  hono: (dir: string) => ['related', '0', dir, 'hono'],
  ceiling: () => ['ceiling', '0'],
};

interface Sample {
  share: number;
  dso: string;
  symbol: string;
}

/** Where a sampled symbol belongs, from its library and name. */
function part({ dso, symbol }: Sample): string {
  if (dso.startsWith('[kernel')) return 'kernel (TCP, epoll, syscalls, scheduling)';
  if (/^perf-\d+\.map$|JIT/.test(dso)) return 'JavaScript (JIT-compiled code)';
  if (dso.endsWith('.node')) return 'native addons (LMDB, msgpackr)';
  if (/^lib(c|m|stdc\+\+|pthread)[.-]|^ld-linux/.test(dso)) return 'libc and libstdc++';
  if (/Heap|Scaveng|Sweep|Evacuat|Marking|MarkCompact|Compactor|GCTracer|Minor|Major/.test(symbol))
    return 'V8 garbage collection';
  if (/^Builtins?_/.test(symbol))
    return 'V8 builtins (property loads, calls, string ops run for JavaScript)';
  if (/compiler::|Maglev|Turbofan|Baseline|Compil|Deoptimiz|OptimizedCompile/.test(symbol))
    return 'V8 compiler (JIT)';
  if (/^v8::|^void v8::|^\(anonymous namespace\)::/.test(symbol))
    return 'V8 runtime in C++ (JSON, strings, compiler)';
  if (/node::|uv_|uv__|llhttp/.test(symbol)) return 'Node and libuv in C++ (HTTP parser, streams)';
  return `other (${dso})`;
}

/** Samples by symbol: self time, or with `children` the time in it and what it called. */
function report(data: string, children = false): Sample[] {
  const text = execFileSync(
    'perf',
    [
      'report',
      '-i',
      data,
      children ? '--children' : '--no-children',
      '--sort',
      'dso,sym',
      '--stdio',
      '-g',
      'none',
      '--field-separator',
      '\t',
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    // With children, "Children  Self  Object  Symbol"; without, "Self  Object  Symbol".
    const fields = line.split('\t').map((field) => field.trim());
    const [share, dso, symbol] = children ? [fields[0], fields[2], fields[3]] : fields;
    if (line.startsWith('#') || !share?.endsWith('%') || dso === undefined) continue;
    samples.push({
      share: Number(share.slice(0, -1)),
      dso,
      // "[k] name" (kernel), "[.] name" (user space)
      symbol: (symbol ?? '').replace(/^\[.\]\s*/, ''),
    });
  }
  return samples;
}

export async function run(): Promise<void> {
  const { seconds, target } = benchEnv(KNOBS['api-profile']);
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'perf is not installed: run `apt-get install linux-perf` (Debian), then run this again.',
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'osusume-bench-api-profile-'));
  try {
    const apiKey = await seed(dir);
    const { child, url } = await start(TARGETS[target](dir), ['--perf-basic-prof']);
    await load(url, apiKey, 3);
    const data = path.join(dir, 'perf.data');
    const recorder = spawn(
      'perf',
      ['record', '-e', 'cpu-clock', '-F', '999', '-g', '-p', String(child.pid), '-o', data],
      { stdio: 'ignore' },
    );
    const cpuBefore = cpuSeconds(child);
    const loaded = await load(url, apiKey, seconds);
    const cpuAfter = cpuSeconds(child);
    // The server's CPU time per request while sampled (perf's own overhead included).
    const cpuUs =
      cpuBefore === null || cpuAfter === null
        ? null
        : ((cpuAfter - cpuBefore) / loaded.requests.total) * 1e6;
    const recorded = new Promise((resolve) => recorder.once('exit', resolve));
    recorder.kill('SIGINT');
    await recorded;
    await stop(child);

    const samples = report(data);
    const inclusive = report(data, true).filter((s) => /JIT/.test(s.dso));
    // The map of JIT code that --perf-basic-prof wrote, needed by the report only.
    rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
    const parts = new Map<string, number>();
    for (const s of samples) parts.set(part(s), (parts.get(part(s)) ?? 0) + s.share);
    console.log(
      `${target} under load: ${loaded.requests.average.toFixed(0)} req/s, ${seconds} s sampled with perf (cpu-clock, 999 Hz)` +
        (cpuUs === null ? '' : `, server CPU ${cpuUs.toFixed(1)} µs per request`),
    );
    console.log('\nshare of the server CPU samples by part (and its µs per request):');
    for (const [name, share] of [...parts].sort((a, b) => b[1] - a[1]))
      console.log(
        `  ${share.toFixed(1).padStart(5)} %  ${cpuUs === null ? '' : `${((share / 100) * cpuUs).toFixed(1).padStart(5)} µs  `}${name}`,
      );
    console.log(`\ntop ${TOP} symbols (self time):`);
    for (const s of samples.slice(0, TOP))
      console.log(`  ${s.share.toFixed(2).padStart(5)} %  ${s.symbol.slice(0, 110)}  [${s.dso}]`);
    console.log(`\ntop ${TOP} JavaScript functions (time in them and in what they called):`);
    for (const s of inclusive.slice(0, TOP))
      console.log(`  ${s.share.toFixed(2).padStart(5)} %  ${s.symbol.slice(0, 110)}`);
    console.log(
      JSON.stringify({
        bench: 'api-profile',
        target,
        seconds,
        rps: Math.round(loaded.requests.average),
        cpuUsPerRequest: cpuUs === null ? null : +cpuUs.toFixed(1),
        parts: Object.fromEntries([...parts].map(([k, v]) => [k, +v.toFixed(1)])),
        top: samples.slice(0, TOP).map((s) => ({ ...s, symbol: s.symbol.slice(0, 200) })),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
