/**
 * Interactions for co-engagement, simulated from a real rating dataset: MovieLens ml-latest-small
 * (2016; 100,004 ratings, 671 users, 9,066 movies) inside Debian's r-cran-dslabs (an R lazy-load
 * database, read by rdata.ts; no R needed). Upstream terms forbid commercial use: it is read at
 * run time into .osusume/ and never committed.
 *   osusume dataset movielens [OUT_DIR]     (default .osusume/datasets/movielens)
 * One tenant; items = movies (title with year, genres as the body); every rating is a view by
 * its user at its time. Split by time: ratings before the 80th percentile of timestamps are the
 * interactions the batch sees (interactions.jsonl); in the later ones, each user's well-rated
 * movies (rating >= 4) in the order watched, every movie paired with the next ones of the same
 * user, are the truth (pairs.tsv): what a viewer went on to watch.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { fetchDebianPackages, writeDataset, type DatasetItem } from './manuals.js';
import { dataFrameColumns, readLazyLoadDb } from './rdata.js';
import { isBuilt, markBuilt } from './readable.js';

const TENANT = 'movielens';
/** Share of the time range (by rating count) the batch sees; the rest is held out. */
const TRAIN_SHARE = 0.8;
const GOOD_RATING = 4;
/** How many later movies of the same user each held-out movie is paired with. */
const NEXT = 5;

export interface Rating {
  userId: string;
  movieId: string;
  rating: number;
  ts: number;
}

/** The time split: interactions before the cut, truth pairs after it. */
export function splitByTime(ratings: Rating[]): {
  cut: number;
  train: Rating[];
  pairs: [string, string][];
} {
  const times = ratings.map((r) => r.ts).sort((a, b) => a - b);
  const cut = times[Math.floor(times.length * TRAIN_SHARE)] ?? Infinity;
  const train = ratings.filter((r) => r.ts < cut);
  const later = new Map<string, Rating[]>();
  for (const r of ratings)
    if (r.ts >= cut && r.rating >= GOOD_RATING)
      (later.get(r.userId) ?? later.set(r.userId, []).get(r.userId)!).push(r);
  const seen = new Set<string>();
  const pairs: [string, string][] = [];
  for (const list of later.values()) {
    list.sort((a, b) => a.ts - b.ts || (a.movieId < b.movieId ? -1 : 1));
    list.forEach((r, i) => {
      for (const s of list.slice(i + 1, i + 1 + NEXT)) {
        const [a, b] = r.movieId < s.movieId ? [r.movieId, s.movieId] : [s.movieId, r.movieId];
        if (a === b || seen.has(`${a} ${b}`)) continue;
        seen.add(`${a} ${b}`);
        pairs.push([a, b]);
      }
    });
  }
  return { cut, train, pairs };
}

function readMovielens(root: string): { items: DatasetItem[]; ratings: Rating[] } {
  const db = readLazyLoadDb(path.join(root, 'usr/lib/R/site-library/dslabs/data/Rdata'));
  const load = db.get('movielens');
  if (!load) throw new ConfigError('r-cran-dslabs has no movielens data set');
  const cols = dataFrameColumns(load());
  const col = (name: string) => {
    const c = cols.get(name);
    if (!c) throw new ConfigError(`movielens has no column ${name}`);
    return c;
  };
  const [movieId, title, year, genres, userId, rating, timestamp] = [
    'movieId',
    'title',
    'year',
    'genres',
    'userId',
    'rating',
    'timestamp',
  ].map(col) as (number | string | null)[][];
  const items = new Map<string, DatasetItem>();
  const ratings: Rating[] = [];
  movieId!.forEach((m, i) => {
    const id = String(m);
    if (!items.has(id))
      items.set(id, {
        tenant: TENANT,
        id,
        title: year![i] ? `${title![i]} (${year![i]})` : String(title![i] ?? ''),
        body: String(genres![i] ?? '')
          .split('|')
          .filter((g) => g !== '(no genres listed)')
          .join(', '),
      });
    ratings.push({
      userId: `u${userId![i]}`,
      movieId: id,
      rating: Number(rating![i]),
      ts: Number(timestamp![i]),
    });
  });
  return { items: [...items.values()], ratings };
}

/** Builds the set into `out` unless it is there already; returns `out`, and whether it built the set. */
export function buildMovielens(out: string): { dir: string; built: boolean } {
  const interactionsFile = path.join(out, 'interactions.jsonl');
  if (isBuilt(out)) return { dir: out, built: false };
  const root = fetchDebianPackages(['r-cran-dslabs'], path.join(path.dirname(out), 'debs'));
  const { items, ratings } = readMovielens(root);
  const { cut, train, pairs } = splitByTime(ratings);
  const written = writeDataset(out, {
    items,
    pairs: pairs.map(([a, b]) => ({ tenant: TENANT, a, b })),
  });
  mkdirSync(out, { recursive: true });
  writeFileSync(
    `${interactionsFile}.tmp`,
    train
      .map((r) =>
        JSON.stringify({
          tenantId: TENANT,
          userId: r.userId,
          postId: r.movieId,
          type: 'view',
          ts: new Date(r.ts * 1000).toISOString(),
        }),
      )
      .join('\n') + '\n',
  );
  renameSync(`${interactionsFile}.tmp`, interactionsFile);
  markBuilt(out);
  console.error(
    `movielens: ${written.items.length} movies, ${train.length} interactions before ${new Date(cut * 1000).toISOString()}, ${written.pairs.length} held-out pairs -> ${out}`,
  );
  return { dir: out, built: true };
}
