import type { Command } from 'commander';
import { examples } from './options.js';

/**
 * Each benchmark module exports `run(): Promise<void>`; its figures go to BENCHMARKS.md. `quick`
 * is what --quick sets: smaller sizes through the benchmark's own BENCH_* knobs (a variable the
 * user set wins), to check that it runs, not for figures.
 */
const BENCHMARKS = {
  embed: {
    quick: { BENCH_SENTENCES: '128' },
    module: () => import('../../bench/embed.js'),
    what: "the pipeline's embed step against a bare onnxruntime session on the same model file (the pretrained encoder where set-up fetched it; BENCH_MODEL=multilingual for the multilingual one, =random for random weights; BENCH_MAX_TOKENS=512 reads more of each page than the default 128)",
  },
  ann: {
    quick: { BENCH_ROWS: '10000' },
    module: () => import('../../bench/ann.js'),
    what: 'faiss exact against IVF search: queries per second and recall',
  },
  store: {
    quick: { BENCH_LISTS: '2000' },
    module: () => import('../../bench/store.js'),
    what: 'list writes and reads, LMDB against the Firestore emulator, with and without the list cache',
  },
  api: {
    quick: { BENCH_SECONDS: '1' },
    module: () => import('../../bench/api.js'),
    what: 'the related endpoint against a bare Hono handler (the ceiling), interleaved',
  },
  orchestration: {
    quick: { BENCH_TENANTS: '50', BENCH_ROUNDS: '1' },
    module: () => import('../../bench/orchestration.js'),
    what: '1,000 small tenants through a Temporal dev server and worker against the same batch in process: tenants per minute, pending children, events per history',
  },
  lists: {
    quick: { BENCH_ROUNDS: '1' },
    module: () => import('../../bench/lists.js'),
    what: "the default lists (fielded) against the lexical baseline on the demo's posts, and without their phrase channel, interleaved",
  },
  'api-profile': {
    quick: { BENCH_SECONDS: '2' },
    module: () => import('../../bench/api-profile.js'),
    what: "where the related endpoint's CPU time goes: Linux perf samples of the server under load",
  },
} satisfies Record<string, { quick: Record<string, string>; module: unknown; what: string }>;

export function register(program: Command): void {
  const bench = program
    .command('bench')
    .description('Run a benchmark; it prints ratios against a peer measured in the same run.');
  for (const [name, { module, what, quick }] of Object.entries(BENCHMARKS)) {
    const sizes = Object.entries(quick)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    examples(
      bench
        .command(name)
        .description(what)
        .option('--quick', `smaller sizes (${sizes}): checks that it runs, not for figures`)
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
  examples(bench, [
    ['osusume bench api', "the API's figures in BENCHMARKS.md"],
    ['osusume bench store --quick', 'a short run, to check that it runs'],
  ]);
}
