/**
 * osusume bench lsa (npm run bench:lsa) — training a tenant's own model (LSA, `model.lsaDim`) on
 * tenants of BENCH_SIZES posts of real text (the demo's pages recombined, variedDemoPosts), as the
 * embed step trains it (trainLsaPaced: pausing for the event loop every 50 ms) against the same
 * training in one go (trainLsa). Reports each one's seconds, their ratio, and the longest the
 * event loop waited meanwhile (perf_hooks' event-loop delay): what a step's heartbeats, and its
 * cancellation, wait for at worst.
 */
import { loadConfig } from '../core/config.js';
import { trainLsa, trainLsaPaced } from '../core/model/lsa.js';
import { variedDemoPosts } from '../scripts/fixtures.js';
import { benchEnv, KNOBS } from './env.js';
import { timedWithStall } from './stall.js';

export async function run(): Promise<void> {
  const { sizes } = benchEnv(KNOBS.lsa);
  const dim = loadConfig().model.lsaDim;
  const rows = [];
  console.log('posts\tterms\tin one go s\tpaced s\tratio\tlongest stall in one go s\tpaced s');
  for (const size of sizes) {
    const texts = variedDemoPosts('bench', size).map((p) => `${p.title} ${p.body}`);
    let terms = 0;
    const once = await timedWithStall(() => (terms = trainLsa(texts, { dim }).terms.length));
    const paced = await timedWithStall(() => trainLsaPaced(texts, { dim }));
    const row = {
      posts: size,
      terms,
      seconds: +once.seconds.toFixed(2),
      pacedSeconds: +paced.seconds.toFixed(2),
      ratio: +(paced.seconds / once.seconds).toFixed(3),
      longestStall: +once.longestStall.toFixed(3),
      pacedLongestStall: +paced.longestStall.toFixed(3),
    };
    rows.push(row);
    console.log(Object.values(row).join('\t'));
  }
  console.log(JSON.stringify({ bench: 'lsa', dim, runs: rows }));
}
