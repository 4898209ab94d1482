import { describe, expect, it, vi } from 'vitest';
import { fieldedListSteps, fieldedLists, lexicalListSteps } from '../activities/lexical.js';
import { parseConfig } from '../core/config.js';
import { lsaEmbeddings, trainLsa } from '../core/model/lsa.js';
import { runPaced, type Progress, type Steps } from '../core/pacing.js';
import { toSnapshotPost } from '../core/posts.js';
import { TfidfModel } from '../core/tfidf.js';
import { variedDemoPosts } from './helpers/fixtures.js';

// The texts the lists tokenise or cut into trigrams, counted; the calls are otherwise unchanged.
const work = vi.hoisted(() => ({ texts: 0 }));
vi.mock('../core/text.js', async (importOriginal) => {
  const text = await importOriginal<typeof import('../core/text.js')>();
  return {
    ...text,
    lexicalTerms: (t: string) => {
      work.texts += 1;
      return text.lexicalTerms(t);
    },
    characterNgrams: (t: string, n?: number) => {
      work.texts += 1;
      return text.characterNgrams(t, n);
    },
  };
});

// The documents the lists weigh (vectorise, title containment), counted likewise.
const weighed = vi.spyOn(TfidfModel.prototype, 'weights');

/**
 * Drives the steps as a batch step does, pausing after every one (everyMs 0), and counts the
 * units of work (a text tokenised, a document weighed) each step did: a step that goes over every
 * post in one go shows as one step with as many units as posts.
 */
async function workPerStep<R>(steps: Steps<R>) {
  const units = () => work.texts + weighed.mock.calls.length;
  const pauses: (Progress & { units: number })[] = [];
  let before = units();
  const result = await runPaced(steps, {
    everyMs: 0,
    onPause: (progress) => {
      pauses.push({ ...progress, units: units() - before });
      before = units();
    },
  });
  const last = units() - before;
  return { result, pauses, most: Math.max(last, ...pauses.map((p) => p.units)) };
}

/** The stages in order, each once however many steps it took. */
const stagesOf = (pauses: Progress[]) =>
  pauses.map((p) => p.stage).filter((stage, i, all) => stage !== all[i - 1]);

describe('lists paced over their linear set-up too (tokenising, fitting, vectorising, indexes)', () => {
  // A real tenant's worth of text: the demo's pages recombined.
  const posts = variedDemoPosts('big', 600).map((p) =>
    toSnapshotPost({ ...p, deleted: false }, 100_000),
  );
  const config = parseConfig({}, process.cwd());

  it('the default lists: no step tokenises or weighs more than one post, and the lists are the same', async () => {
    const { result, pauses, most } = await workPerStep(
      fieldedListSteps(posts, [], 10, config.fielded),
    );
    // One post's title and body, at most: before, the set-up did all 600 posts in one step.
    expect(most).toBeLessThanOrEqual(2);
    expect(result).toEqual(fieldedLists(posts, [], 10, config.fielded));
    expect(stagesOf(pauses)).toEqual([
      'tokenise',
      'text: vocabulary',
      'text: vectors',
      'containment: titles',
      'containment: texts',
      'title: vocabulary',
      'title: vectors',
      'titles: index',
      'titles',
      'title words',
      'title trigrams',
      'title trigrams: vocabulary',
      'title trigrams: vectors',
      'phrases: titles',
      'phrases: texts',
      'rank: index',
      'rank',
    ]);
  });

  it('the lexical lists: one text tokenised or weighed per step at most', async () => {
    const { pauses, most } = await workPerStep(lexicalListSteps(posts, 10));
    expect(most).toBeLessThanOrEqual(1);
    expect(stagesOf(pauses)).toEqual([
      'tokenise',
      'text: vocabulary',
      'text: vectors',
      'rank: index',
      'rank',
    ]);
  });

  it('with every channel on, each stage is a pass over the posts, one post per step', async () => {
    const weights = {
      ...config.fielded,
      leadingTerm: 0.1,
      nameGrams: 0.1,
      sharedNeighbours: 0.1,
      latent: 0.3,
      fullTitleShare: 1,
    };
    const lsa = trainLsa(posts.map((p) => p.text));
    const latent = (_texts: string[], terms: string[][]) => ({
      vectors: lsaEmbeddings(lsa, terms),
      dim: lsa.dim,
    });
    const { pauses } = await workPerStep(fieldedListSteps(posts, [], 10, weights, latent));
    pauses.forEach((p, i) => {
      const previous = pauses[i - 1];
      expect(p.total).toBe(posts.length);
      expect(p.done).toBe(previous?.stage === p.stage ? previous.done + 1 : 1);
    });
    expect(stagesOf(pauses)).toEqual(
      expect.arrayContaining([
        'leading terms',
        'leading term: titles',
        'title trigrams: vocabulary',
        'same titles',
        'names: vectors',
        'neighbour lists: vectors',
        'pool: index',
        'latent',
      ]),
    );
  });

  it('TfidfModel.fitSteps counts one document per step', async () => {
    const docs = [['a', 'b'], ['b', 'c'], ['b'], ['c', 'c']];
    const { result, pauses } = await workPerStep(TfidfModel.fitSteps(docs));
    expect(pauses.map((p) => `${p.stage} ${p.done}/${p.total}`)).toEqual(
      [1, 2, 3, 4].map((done) => `vocabulary ${done}/4`),
    );
    expect(result.terms).toEqual(['b', 'c']);
    expect(result).toEqual(TfidfModel.fit(docs));
  });
});
