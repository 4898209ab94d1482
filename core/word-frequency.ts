/**
 * General-language word frequencies (wordfreq's `large_en` and `large_ja` lists: Wikipedia,
 * subtitles, news, books and the web; Apache-2.0, from PyPI), for the document-frequency prior of
 * `fielded.backgroundPrior`. Each file is wordfreq's "cB" format: after a header, bucket i holds
 * the words whose frequency is 10^(-i/100).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { unpack } from 'msgpackr';
import { ConfigError } from './errors.js';

const LISTS = ['large_en.msgpack.gz', 'large_ja.msgpack.gz'];

/** One folder's table at a time: the batch and the evaluation read one. */
let loaded: { dir: string; frequencies: Map<string, number> } | undefined;

/** Each word's frequency in general text, the higher of English's and Japanese's. */
export function wordFrequencies(dir: string): Map<string, number> {
  if (loaded?.dir === dir) return loaded.frequencies;
  const frequencies = new Map<string, number>();
  for (const list of LISTS) {
    const path = join(dir, list);
    let buckets: unknown;
    try {
      buckets = unpack(gunzipSync(readFileSync(path)));
    } catch (error) {
      throw new ConfigError(
        `fielded.backgroundPrior needs wordfreq's ${list} in ${dir} (${String(error)}): unzip wordfreq-3.1.1's wheel from PyPI there (EVALUATION.md), or set fielded.backgroundPrior: 0.`,
      );
    }
    if (!Array.isArray(buckets)) throw new ConfigError(`${path} is not a wordfreq list.`);
    buckets.slice(1).forEach((words: unknown, index) => {
      const frequency = Math.pow(10, -index / 100);
      for (const word of words as string[])
        frequencies.set(word, Math.max(frequency, frequencies.get(word) ?? 0));
    });
  }
  loaded = { dir, frequencies };
  return frequencies;
}
