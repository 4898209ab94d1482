/**
 * A look of the thirteenth session (EVALUATION.md), reverted after its run: can a tenant tell,
 * without labels, whether an encoder reads it better than its words? Each post's title ranks every
 * post's body by TF-IDF cosine and by the encoder's; d = MRR(encoder) - MRR(TF-IDF) of the own body.
 *   npx tsx scripts/look-title-body.ts [set ...]
 */
import path from 'node:path';
import { EmbeddingModel } from '../activities/embedder.js';
import { loadConfig } from '../core/config.js';
import { lexicalTerms } from '../core/text.js';
import { TfidfModel } from '../core/tfidf.js';
import { suiteFiles } from './evaluate-suite.js';
import { readItems, readPairs, snapshotPosts } from './evaluate.js';

const config = loadConfig();
const model = await EmbeddingModel.load({
  ...config.model,
  dir: path.resolve(process.env.LOOK_MODEL ?? '.osusume/models/all-MiniLM-L6-v2-int8'),
});
const midRank = (scores: Float64Array, own: number) => {
  let greater = 0,
    equal = 0;
  for (let j = 0; j < scores.length; j++)
    if (j !== own) {
      if (scores[j]! > scores[own]!) greater++;
      else if (scores[j] === scores[own]) equal++;
    }
  return 1 + greater + equal / 2;
};
async function embed(texts: string[]) {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += 64) {
    const batch = texts.slice(i, i + 64);
    const v = await model.embedBatch(batch);
    batch.forEach((_, j) => out.push(v.subarray(j * model.dim, (j + 1) * model.dim)));
  }
  return out;
}
const names = process.argv.slice(2);
for (const set of suiteFiles(names.length ? names : undefined, '.osusume/datasets')) {
  const { items } = readItems(set.files.items);
  const pairs = readPairs(set.files.pairs);
  const snaps = snapshotPosts(items, config.pipeline);
  const rows: string[] = [];
  const ds: number[] = [];
  for (const [tenant, byId] of snaps) {
    if (!pairs.get(tenant)?.length) continue;
    const posts = [...byId.values()]
      .map((p) => ({ title: p.title, body: p.text.slice(p.title.length).trim() }))
      .filter((p) => p.body && p.title.trim());
    // one post per distinct text, as the batch de-duplicates
    const uniq = [...new Map(posts.map((p) => [p.title + '\n' + p.body, p])).values()];
    if (uniq.length < 2) continue;
    const bodies = uniq.map((p) => lexicalTerms(p.body));
    const tf = TfidfModel.fit(bodies);
    const bv = bodies.map((b) => tf.vectorize(b));
    const postings = new Map<number, { row: number; w: number }[]>();
    bv.forEach((v, row) =>
      v.ids.forEach((id, j) => {
        let l = postings.get(id);
        if (!l) postings.set(id, (l = []));
        l.push({ row, w: v.weights[j]! });
      }),
    );
    const te = await embed(uniq.map((p) => p.title));
    const be = await embed(uniq.map((p) => p.body));
    let mrrT = 0,
      mrrE = 0;
    const n = uniq.length;
    for (let i = 0; i < n; i++) {
      const q = tf.vectorize(lexicalTerms(uniq[i]!.title));
      const s = new Float64Array(n);
      q.ids.forEach((id, j) => {
        for (const p of postings.get(id) ?? []) s[p.row] = s[p.row]! + q.weights[j]! * p.w;
      });
      mrrT += 1 / midRank(s, i);
      const e = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        let d = 0;
        const a = te[i]!,
          b = be[r]!;
        for (let k = 0; k < model.dim; k++) d += a[k]! * b[k]!;
        e[r] = d;
      }
      mrrE += 1 / midRank(e, i);
    }
    mrrT /= n;
    mrrE /= n;
    ds.push(mrrE - mrrT);
    rows.push(
      `  ${tenant} n=${n} tfidf ${mrrT.toFixed(3)} encoder ${mrrE.toFixed(3)} d ${(mrrE - mrrT).toFixed(3)}`,
    );
  }
  const mean = ds.reduce((a, b) => a + b, 0) / ds.length;
  console.log(
    `${set.name}: d ${mean.toFixed(3)} (${ds.filter((d) => d > 0).length}/${ds.length} tenants > 0)`,
  );
  console.log(rows.join('\n'));
}
await model.release();
