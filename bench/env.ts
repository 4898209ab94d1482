/**
 * The benchmarks' knobs: the BENCH_* environment variables each benchmark reads, declared here
 * once, so that `osusume bench --help` lists them from the declarations the benchmarks read them
 * through. A value a knob does not accept is a ConfigError naming the variable, its value and what
 * it accepts, thrown as the benchmark starts, before it builds or starts anything: unchecked, a
 * negative size failed deep inside (Invalid typed array length), text ran on as NaN and a
 * mistyped choice ran on the default.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';

export interface Knob<T> {
  /** The environment variable. */
  name: string;
  /** What it sets, for --help. */
  what: string;
  /** What it accepts ("a whole number from 1 to 100"), for --help and the error. */
  accepts: string;
  /** Its value when unset or empty, and how --help shows that. */
  fallback: T;
  byDefault: string;
  /** The value it stands for, or undefined when the knob does not accept it. */
  parse(value: string): T | undefined;
}

function wholeNumberOf(value: string, min: number, max: number): number | undefined {
  const n = Number(value);
  return value.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

function wholeNumber(
  name: string,
  what: string,
  min: number,
  max: number,
  fallback: number,
): Knob<number> {
  return {
    name,
    what,
    accepts: `a whole number from ${min} to ${max}`,
    fallback,
    byDefault: String(fallback),
    parse: (value) => wholeNumberOf(value, min, max),
  };
}

function wholeNumbers(
  name: string,
  what: string,
  min: number,
  max: number,
  fallback: number[],
): Knob<number[]> {
  return {
    name,
    what,
    accepts: `whole numbers from ${min} to ${max}, separated by commas`,
    fallback,
    byDefault: fallback.join(','),
    parse: (value) => {
      const numbers = value.split(',').map((v) => wholeNumberOf(v, min, max));
      return numbers.every((n) => n !== undefined) ? numbers : undefined;
    },
  };
}

function oneOf<const C extends readonly [string, ...string[]]>(
  name: string,
  what: string,
  choices: C,
): Knob<C[number]> {
  return {
    name,
    what,
    accepts: `one of ${choices.join(', ')}`,
    fallback: choices[0],
    byDefault: choices[0],
    parse: (value) => choices.find((c) => c === value),
  };
}

/** Another checkout of osusume that can serve the API (bench api loads it side by side). */
function checkout(name: string, what: string): Knob<string | undefined> {
  return {
    name,
    what,
    accepts:
      'the path of another osusume checkout with bench/api-target.ts and node_modules (git worktree add ../baseline HEAD~1, then npm install there)',
    fallback: undefined,
    byDefault: 'none',
    parse: (value) =>
      existsSync(path.join(value, 'bench/api-target.ts')) &&
      existsSync(path.join(value, 'node_modules'))
        ? path.resolve(value)
        : undefined,
  };
}

/** The knobs of each benchmark (`osusume bench <name>`), by the name the benchmark reads. */
export const KNOBS = {
  embed: {
    sentences: wholeNumber(
      'BENCH_SENTENCES',
      'English demo pages embedded (all there are, when there are fewer)',
      1,
      100_000,
      1024,
    ),
    maxTokens: wholeNumber(
      'BENCH_MAX_TOKENS',
      "tokens read of each page (up to the models' 512 positions)",
      8,
      512,
      128,
    ),
    model: oneOf(
      'BENCH_MODEL',
      'the encoder: pretrained (random weights where set-up could not fetch it), multilingual (set-up builds it), random weights',
      ['pretrained', 'multilingual', 'random'],
    ),
  },
  ann: {
    rows: wholeNumber(
      'BENCH_ROWS',
      'vectors (of 384 dimensions) searched all against all',
      1_000,
      1_000_000,
      100_000,
    ),
    nprobes: wholeNumbers(
      'BENCH_NPROBE',
      'IVF lists probed per query, one run each',
      1,
      65_536,
      [8, 24],
    ),
  },
  store: {
    lists: wholeNumber(
      'BENCH_LISTS',
      'lists written to each store, then read',
      100,
      1_000_000,
      20_000,
    ),
  },
  api: {
    seconds: wholeNumber('BENCH_SECONDS', 'seconds each load round lasts', 1, 600, 5),
    baseline: checkout(
      'BENCH_BASELINE',
      'a checkout whose related endpoint is loaded in the same rounds',
    ),
  },
  'api-profile': {
    seconds: wholeNumber('BENCH_SECONDS', 'seconds the server is sampled under load', 1, 600, 10),
    target: oneOf(
      'BENCH_TARGET',
      'the server profiled: related (the API), hono (the API without its fast path), ceiling (the bare Hono handler)',
      ['related', 'hono', 'ceiling'],
    ),
  },
  orchestration: {
    tenants: wholeNumber('BENCH_TENANTS', 'generated tenants in the batch', 1, 10_000, 1_000),
    posts: wholeNumber('BENCH_POSTS', 'posts of each tenant', 1, 10_000, 8),
    rounds: wholeNumber('BENCH_ROUNDS', 'rounds of each (on Temporal, in process)', 1, 100, 2),
  },
  lists: {
    rounds: wholeNumber('BENCH_ROUNDS', 'rounds of each variant', 1, 100, 5),
  },
  ranking: {
    sizes: wholeNumbers(
      'BENCH_SIZES',
      "tenants' sizes in posts, each ranked in one go and paced",
      2,
      1_000_000,
      [2_000, 5_000],
    ),
    rounds: wholeNumber('BENCH_ROUNDS', 'rounds of each, alternated', 1, 100, 3),
  },
  lsa: {
    sizes: wholeNumbers(
      'BENCH_SIZES',
      "tenants' sizes in posts, each trained in one go and paced",
      2,
      1_000_000,
      [2_000, 10_000, 50_000],
    ),
  },
} satisfies Record<string, Record<string, Knob<unknown>>>;

type Values<K> = { [N in keyof K]: K[N] extends Knob<infer T> ? T : never };

/** A benchmark's knobs read from the environment, every one checked before it starts. */
export function benchEnv<K extends Record<string, Knob<unknown>>>(knobs: K): Values<K> {
  const values = Object.entries(knobs).map(([key, knob]) => {
    const value = process.env[knob.name];
    if (value === undefined || value === '') return [key, knob.fallback];
    const parsed = knob.parse(value);
    if (parsed === undefined)
      throw new ConfigError(
        `${knob.name} must be ${knob.accepts}, not ${JSON.stringify(value)}: set it to one, or unset it for the default (${knob.byDefault}).`,
      );
    return [key, parsed];
  });
  return Object.fromEntries(values) as Values<K>;
}

/** --help for a benchmark's knobs: each variable and what it sets, then what it accepts. */
export function knobHelp(knobs: Record<string, Knob<unknown>>, indent: string): string {
  const width = Math.max(...Object.values(knobs).map((k) => k.name.length));
  const under = `${indent}${' '.repeat(width)}  `;
  return Object.values(knobs)
    .map(
      (k) =>
        `${indent}${k.name.padEnd(width)}  ${k.what}\n${under}${k.accepts}; default ${k.byDefault}`,
    )
    .join('\n');
}
