/**
 * osusume bench ranking (npm run bench:ranking) — the default lists (`fielded`, as configured) of
 * one tenant of BENCH_SIZES posts of real text (the demo's pages recombined, variedDemoPosts), as
 * the lists step ranks them (runPaced: a turn of the event loop every 50 ms) against the same
 * ranking in one go (runAtOnce, as the step ranked before), alternated over BENCH_ROUNDS rounds.
 * Reports each one's median seconds, their ratio, and the longest the event loop waited in any
 * round: ranking grows with the square of the posts, and in one go it held the step's heartbeats
 * for all of it.
 */
import { createHash } from 'node:crypto';
import { fieldedListSteps } from '../activities/lexical.js';
import { loadConfig } from '../core/config.js';
import { runAtOnce, runPaced } from '../core/pacing.js';
import { toSnapshotPost } from '../core/posts.js';
import { median } from '../core/stats.js';
import { variedDemoPosts } from '../scripts/fixtures.js';
import { benchEnv, KNOBS } from './env.js';
import { timedWithStall } from './stall.js';

const digest = (lists: unknown) => createHash('sha256').update(JSON.stringify(lists)).digest('hex');

export async function run(): Promise<void> {
  const { sizes, rounds } = benchEnv(KNOBS.ranking);
  const config = loadConfig();
  const k = config.neighbours.k;
  const rows = [];
  console.log(
    `median of ${rounds} rounds, the two alternated\n` +
      'posts\tin one go s\tpaced s\tratio\tlongest stall in one go s\tpaced s',
  );
  for (const size of sizes) {
    const posts = variedDemoPosts('bench', size).map((p) =>
      toSnapshotPost({ ...p, deleted: false }, config.pipeline.maxTextChars),
    );
    const steps = () => fieldedListSteps(posts, [], k, config.fielded);
    const digests = new Set<string>();
    const variants = {
      once: () => timedWithStall(() => digests.add(digest(runAtOnce(steps())))),
      paced: () => timedWithStall(async () => digests.add(digest(await runPaced(steps())))),
    };
    const runs: Record<keyof typeof variants, { seconds: number; longestStall: number }[]> = {
      once: [],
      paced: [],
    };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['once', 'paced'] as const) : (['paced', 'once'] as const);
      for (const name of order) runs[name].push(await variants[name]());
    }
    // Pacing must not change a list: the figures compare the same work.
    if (digests.size !== 1)
      throw new Error(`${size} posts: paced lists differ from those in one go`);
    const seconds = (name: keyof typeof variants) => median(runs[name].map((r) => r.seconds));
    const stall = (name: keyof typeof variants) =>
      Math.max(...runs[name].map((r) => r.longestStall));
    const row = {
      posts: size,
      seconds: +seconds('once').toFixed(2),
      pacedSeconds: +seconds('paced').toFixed(2),
      ratio: +(seconds('paced') / seconds('once')).toFixed(3),
      longestStall: +stall('once').toFixed(3),
      pacedLongestStall: +stall('paced').toFixed(3),
    };
    rows.push(row);
    console.log(Object.values(row).join('\t'));
  }
  console.log(JSON.stringify({ bench: 'ranking', k, rounds, runs: rows }));
}
