import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { splitByTime, type Rating } from '../scripts/datasets/movielens.js';
import { dataFrameColumns, readLazyLoadDb } from '../scripts/datasets/rdata.js';

const dir = mkdtempSync(path.join(tmpdir(), 'osusume-rdata-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** R's XDR serialization (format 3), written the way R writes it, for the types data frames use. */
class RWriter {
  private parts: Buffer[] = [];
  int(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  real(v: number) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    this.parts.push(b);
    return this;
  }
  charsxp(s: string | null) {
    if (s === null) return this.int(9).int(-1);
    const bytes = Buffer.from(s, 'utf8');
    this.int(9 | (1 << 15)).int(bytes.length);
    this.parts.push(bytes);
    return this;
  }
  /** A pairlist of attributes: name -> writer of the value. */
  attrs(entries: [string, () => void][]) {
    for (const [name, write] of entries) {
      this.int(2 | (1 << 10))
        .int(1)
        .charsxp(name);
      write();
    }
    return this.int(254);
  }
  ints(values: number[], attrs?: [string, () => void][]) {
    this.int(13 | (attrs ? 1 << 9 : 0)).int(values.length);
    values.forEach((v) => this.int(v));
    return attrs ? this.attrs(attrs) : this;
  }
  reals(values: number[]) {
    this.int(14).int(values.length);
    values.forEach((v) => this.real(v));
    return this;
  }
  strings(values: (string | null)[]) {
    this.int(16).int(values.length);
    values.forEach((v) => this.charsxp(v));
    return this;
  }
  header() {
    this.parts.push(Buffer.from('X\n'));
    this.int(3).int(0x040201).int(0x030500).int(5);
    this.parts.push(Buffer.from('UTF-8'));
    return this;
  }
  done() {
    return Buffer.concat(this.parts);
  }
}

const entry = (data: Buffer) => {
  const length = Buffer.alloc(4);
  length.writeInt32BE(data.length);
  return Buffer.concat([length, deflateSync(data)]);
};

describe('R lazy-load reader', () => {
  it('reads a data frame of numbers, strings and a factor from Rdata.rdb/.rdx', () => {
    const w = new RWriter().header();
    w.int(19 | (1 << 8) | (1 << 9)).int(3);
    w.reals([31, 1029]);
    w.strings(['Dumbo', null]);
    w.ints(
      [2, 1],
      [
        ['levels', () => w.strings(['Drama', 'Animation|Children'])],
        ['class', () => w.strings(['factor'])],
      ],
    );
    w.attrs([
      ['names', () => w.strings(['movieId', 'title', 'genres'])],
      ['class', () => w.strings(['data.frame'])],
      ['row.names', () => w.ints([-2147483648, -2])],
    ]);
    const frame = entry(w.done());
    const index = new RWriter().header();
    index.int(19 | (1 << 9)).int(1);
    index
      .int(19 | (1 << 9))
      .int(1)
      .reals([0, frame.length]);
    index.attrs([['names', () => index.strings(['movielens'])]]);
    index.attrs([['names', () => index.strings(['variables'])]]);
    writeFileSync(path.join(dir, 'Rdata.rdb'), frame);
    writeFileSync(path.join(dir, 'Rdata.rdx'), gzipSync(index.done()));

    const db = readLazyLoadDb(path.join(dir, 'Rdata'));
    expect([...db.keys()]).toEqual(['movielens']);
    const columns = dataFrameColumns(db.get('movielens')!());
    expect(Object.fromEntries(columns)).toEqual({
      movieId: [31, 1029],
      title: ['Dumbo', null],
      genres: ['Animation|Children', 'Drama'],
    });
  });

  it('says what it cannot read', () => {
    writeFileSync(path.join(dir, 'bad.rdx'), gzipSync(Buffer.from('RDX2\n')));
    writeFileSync(path.join(dir, 'bad.rdb'), '');
    expect(() => readLazyLoadDb(path.join(dir, 'bad'))).toThrow(/not an R XDR serialization/);
  });
});

describe('MovieLens time split', () => {
  it('keeps the earlier ratings as interactions and pairs what each user watched next, well rated, after the cut', () => {
    const r = (userId: string, movieId: string, rating: number, ts: number): Rating => ({
      userId,
      movieId,
      rating,
      ts,
    });
    const ratings = [
      ...Array.from({ length: 8 }, (_, i) => r('u0', `old${i}`, 5, i)),
      r('u1', 'm3', 5, 12),
      r('u1', 'm1', 4, 10),
      r('u1', 'm2', 2, 11),
      r('u2', 'm1', 4, 10),
    ];
    const { cut, train, pairs } = splitByTime(ratings);
    expect(cut).toBe(10);
    expect(train).toHaveLength(8);
    // u1's well-rated later movies, in the order watched: m1 then m3 (m2 rated 2 is left out).
    expect(pairs).toEqual([['m1', 'm3']]);
  });
});
