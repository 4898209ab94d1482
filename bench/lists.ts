/**
 * osusume bench lists (npm run bench:lists) — the default lists (`fielded`, as configured) against
 * the lexical baseline (plain TF-IDF cosine) on the same posts, and against `fielded` without its
 * latest additions (containmentInformation and exactTitles 0, the default before the twelfth
 * session): the demo's man pages, every tenant, the variants alternated round by round. Reports
 * each variant's median seconds and its ratio to the baseline.
 */
import { fieldedLists, lexicalLists } from '../activities/lexical.js';
import { loadConfig } from '../core/config.js';
import { readItems, snapshotPosts } from '../scripts/evaluate.js';
import { checkoutFile } from '../scripts/files.js';
import { median } from '../core/stats.js';
import { benchEnv, KNOBS } from './env.js';

const K = 20;

export async function run(): Promise<void> {
  const { rounds } = benchEnv(KNOBS.lists);
  const config = loadConfig();
  const { items } = readItems(checkoutFile('demo/posts.jsonl.gz'));
  const tenants = [...snapshotPosts(items, config.pipeline).values()];
  const variants: [string, () => unknown][] = [
    ['lexical (baseline)', () => tenants.map((posts) => lexicalLists(posts, K))],
    ['fielded', () => tenants.map((posts) => fieldedLists(posts, [], K, config.fielded))],
    [
      'fielded, as before the twelfth session',
      () =>
        tenants.map((posts) =>
          fieldedLists(posts, [], K, {
            ...config.fielded,
            containmentInformation: 0,
            exactTitles: 0,
          }),
        ),
    ],
  ];
  const seconds = variants.map((): number[] => []);
  for (let round = 0; round < rounds; round++)
    variants.forEach(([, compute], v) => {
      const start = performance.now();
      compute();
      seconds[v]!.push((performance.now() - start) / 1000);
    });
  const baseline = median(seconds[0]!);
  console.log(
    `${items.length} demo posts in ${tenants.length} tenants, top-${K}, ${rounds} rounds`,
  );
  console.log('variant\tmedian s\tmin s\tmax s\tratio to the baseline');
  const medians = seconds.map(median);
  variants.forEach(([name], v) => {
    const xs = seconds[v]!;
    console.log(
      [name, median(xs), Math.min(...xs), Math.max(...xs)]
        .map((x) => (typeof x === 'number' ? x.toFixed(2) : x))
        .join('\t') + `\t${(medians[v]! / baseline).toFixed(2)}`,
    );
  });
  console.log(
    JSON.stringify({
      bench: 'lists',
      posts: items.length,
      rounds,
      medianSeconds: Object.fromEntries(
        variants.map(([name], v) => [name, +medians[v]!.toFixed(3)]),
      ),
      ratioToBaseline: Object.fromEntries(
        variants.map(([name], v) => [name, +(medians[v]! / baseline).toFixed(3)]),
      ),
    }),
  );
}
