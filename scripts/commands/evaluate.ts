import type { Command } from 'commander';
import { ALGORITHMS } from '../../core/experiments.js';
import { commaSeparated, examples, integer, listOf } from './options.js';

export function register(program: Command): void {
  const command = program
    .command('evaluate')
    .description(
      'Score the algorithms offline: run the batch on a labelled set, report recall, nDCG, MRR and coverage per tenant.',
    )
    .option('--items <file>', 'JSON lines: tenant, id, title, body (.gz accepted)')
    .option('--pairs <file>', 'TSV with a header naming tenant, a, b: related items')
    .option(
      '--interactions <file>',
      'JSON lines: tenantId, userId, postId, type, ts (coengagement scores zero without them)',
    )
    .option(
      '--all-datasets',
      'every evaluation set instead (built on first use into .osusume/datasets): nDCG per set and its ratio to lexical',
    )
    .option(
      '--sets <list>',
      'with --all-datasets: only these sets, comma-separated',
      commaSeparated,
    )
    .option(
      '--sweep <grid>',
      'score every combination of these fielded weights in memory ("idfPower=1,2 containment=0.05,0.1") on every evaluation set (--all-datasets) or on your own (--items, --pairs), rank by worst ratio to lexical with bootstrap intervals, say whether any beats the configured weights beyond noise, check leaving one set out',
    )
    .option(
      '--latent-model <dir>',
      "with --sweep: rescore the latent channel with this pretrained encoder's vectors (model.dir's layout) instead of each tenant's LSA model, as the batch does with fielded.latentVectors: embedding (which makes model.dir's encoder the default here)",
    )
    .option(
      '--algorithms <list>',
      `comma-separated, from ${ALGORITHMS.join(', ')} (default: all; lexical,fielded with --all-datasets)`,
      listOf(ALGORITHMS),
    )
    .option('--k <n>', 'list length scored (1-100)', integer(1, 100), 10)
    .option(
      '--min-posts <n>',
      'score only tenants with at least n posts (the product serves a tenant below pipeline.minPostsForEmbedding, 20 by default, popular lists instead); the default, 2, scores every tenant',
      integer(2, 1_000_000),
      2,
    )
    .option('--json', 'also print a JSON summary line')
    .action(async (options) => {
      const { evaluateCommand } = await import('../evaluate.js');
      await evaluateCommand(options);
    });
  examples(command, [
    ['osusume evaluate --items items.jsonl --pairs pairs.tsv', 'every algorithm, k = 10'],
    [
      'osusume evaluate --items items.jsonl --pairs pairs.tsv --algorithms fielded,lexical --k 20',
      'two algorithms',
    ],
    [
      'osusume evaluate --items items.jsonl --pairs pairs.tsv --interactions events.jsonl --algorithms coengagement,fielded',
      'co-engagement needs interactions',
    ],
    ['osusume evaluate --all-datasets --sets man-pages-en,gimp-ja', 'two of the evaluation sets'],
    [
      'osusume evaluate --all-datasets --min-posts 20',
      'only the tenants the product serves these lists to',
    ],
    [
      'osusume evaluate --all-datasets --sweep "idfPower=1,2 leadingTerm=0,0.05"',
      'choose fielded weights by the worst ratio',
    ],
    [
      'osusume evaluate --items items.jsonl --pairs pairs.tsv --sweep "nameGrams=0,0.15"',
      'a weight judged on your own labelled set',
    ],
    [
      'osusume evaluate --all-datasets --sets python-docs --sweep "latent=0,0.25" --latent-model .osusume/models/all-MiniLM-L6-v2-int8',
      'the latent channel with a pretrained encoder',
    ],
  ]);
}
