import type { Command } from 'commander';
import { KNOBS, knobHelp, type Knob } from '../../bench/env.js';
import { examples } from './options.js';

/**
 * Each benchmark module exports `run(): Promise<void>`; its figures go to BENCHMARKS.md. `knobs`
 * are the BENCH_* variables it reads (bench/env.ts), listed in --help. `quick` is what --quick
 * sets: smaller sizes through those knobs (a variable the user set wins), to check that it runs,
 * not for figures.
 */
const BENCHMARKS = {
  embed: {
    quick: { BENCH_SENTENCES: '128' },
    module: () => import('../../bench/embed.js'),
    knobs: KNOBS.embed,
    what: "the pipeline's embed step against a bare onnxruntime session on the same model file",
  },
  ann: {
    quick: { BENCH_ROWS: '10000' },
    knobs: KNOBS.ann,
    module: () => import('../../bench/ann.js'),
    what: 'faiss exact against IVF search: queries per second and recall',
  },
  store: {
    quick: { BENCH_LISTS: '2000' },
    knobs: KNOBS.store,
    module: () => import('../../bench/store.js'),
    what: 'list writes and reads, LMDB against the Firestore emulator, with and without the list cache',
  },
  api: {
    quick: { BENCH_SECONDS: '1' },
    knobs: KNOBS.api,
    module: () => import('../../bench/api.js'),
    what: 'the related endpoint against a bare Hono handler (the ceiling), interleaved',
  },
  orchestration: {
    quick: { BENCH_TENANTS: '50', BENCH_ROUNDS: '1' },
    knobs: KNOBS.orchestration,
    module: () => import('../../bench/orchestration.js'),
    what: '1,000 small tenants through a Temporal dev server and worker against the same batch in process: tenants per minute, pending children, events per history',
  },
  lists: {
    quick: { BENCH_ROUNDS: '1' },
    knobs: KNOBS.lists,
    module: () => import('../../bench/lists.js'),
    what: "the default lists (fielded) against the lexical baseline on the demo's posts, and as they were before the twelfth session, interleaved",
  },
  ranking: {
    quick: { BENCH_SIZES: '1000', BENCH_ROUNDS: '1' },
    knobs: KNOBS.ranking,
    module: () => import('../../bench/ranking.js'),
    what: 'the default lists of one tenant of 2,000 and 5,000 posts as the lists step ranks them (pausing for the event loop) against in one go: seconds, and the longest stall of the event loop',
  },
  lsa: {
    quick: { BENCH_SIZES: '1000' },
    knobs: KNOBS.lsa,
    module: () => import('../../bench/lsa.js'),
    what: "training a tenant's own model on 2,000 to 50,000 posts as the embed step does (pausing for the event loop) against in one go: seconds, and the longest stall of the event loop",
  },
  'api-profile': {
    quick: { BENCH_SECONDS: '2' },
    knobs: KNOBS['api-profile'],
    module: () => import('../../bench/api-profile.js'),
    what: "where the related endpoint's CPU time goes: Linux perf samples of the server under load",
  },
} satisfies Record<
  string,
  {
    quick: Record<string, string>;
    knobs: Record<string, Knob<unknown>>;
    module: unknown;
    what: string;
  }
>;

export function register(program: Command): void {
  const bench = program
    .command('bench')
    .description('Run a benchmark; it prints ratios against a peer measured in the same run.');
  for (const [name, { module, what, quick, knobs }] of Object.entries(BENCHMARKS)) {
    const sizes = Object.entries(quick)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    examples(
      bench
        .command(name)
        .description(what)
        .option('--quick', `smaller sizes (${sizes}): checks that it runs, not for figures`)
        .addHelpText('after', `\nEnvironment (unset: the default):\n${knobHelp(knobs, '  ')}`)
        .action(async (options: { quick?: boolean }) => {
          if (options.quick) for (const [k, v] of Object.entries(quick)) process.env[k] ??= v;
          await (await module()).run();
        }),
      [
        [`osusume bench ${name}`, 'the figures in BENCHMARKS.md'],
        [`osusume bench ${name} --quick`, 'a short run'],
      ],
    );
  }
  const environment = Object.entries(BENCHMARKS).map(
    ([name, { knobs }]) => `  ${name}:\n${knobHelp(knobs, '    ')}`,
  );
  bench.addHelpText(
    'after',
    `\nEnvironment, the knobs each benchmark reads (unset: the default):\n${environment.join('\n')}`,
  );
  examples(bench, [
    ['osusume bench api', "the API's figures in BENCHMARKS.md"],
    ['osusume bench store --quick', 'a short run, to check that it runs'],
  ]);
}
