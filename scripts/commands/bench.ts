import type { Command } from 'commander';
import { examples } from './options.js';

/** Each benchmark module exports `run(): Promise<void>`; its figures go to BENCHMARKS.md. */
const BENCHMARKS = {
  embed: {
    module: () => import('../../bench/embed.js'),
    what: "the pipeline's embed step against a bare onnxruntime session on the same model file (the pretrained encoder where set-up fetched it)",
  },
  ann: {
    module: () => import('../../bench/ann.js'),
    what: 'faiss exact against IVF search: queries per second and recall',
  },
  store: {
    module: () => import('../../bench/store.js'),
    what: 'list writes and reads, LMDB against the Firestore emulator, with and without the list cache',
  },
  api: {
    module: () => import('../../bench/api.js'),
    what: 'the related endpoint against a bare Hono handler (the ceiling), interleaved',
  },
  orchestration: {
    module: () => import('../../bench/orchestration.js'),
    what: '1,000 small tenants through a Temporal dev server and worker against the same batch in process: tenants per minute, pending children, events per history',
  },
  'api-profile': {
    module: () => import('../../bench/api-profile.js'),
    what: "where the related endpoint's CPU time goes: Linux perf samples of the server under load",
  },
} as const;

export function register(program: Command): void {
  const bench = program
    .command('bench')
    .description('Run a benchmark; it prints ratios against a peer measured in the same run.');
  for (const [name, { module, what }] of Object.entries(BENCHMARKS)) {
    examples(
      bench
        .command(name)
        .description(what)
        .action(async () => (await module()).run()),
      [[`osusume bench ${name}`, 'the figures in BENCHMARKS.md']],
    );
  }
}
