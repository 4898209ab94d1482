/**
 * Terms for lexical matching in English and Japanese, the one tokenizer of every text method
 * (lexical and fielded lists, the per-tenant LSA model and its ONNX featurizer): words for
 * alphabetic scripts (with their combining marks), and dotted identifiers whole as well as in
 * parts (`libfoo.so` -> libfoo.so, libfoo, so; `os.path` -> os.path, os, path: a page that names
 * another matches it), dictionary
 * words for runs of kanji and kana (ICU's word segmentation through Intl.Segmenter, which Node
 * ships with full ICU), single hiragana (particles: の, を, に) left out. NFKC folds full-width
 * letters and half-width kana first. Words beat character bigrams on the Japanese sets
 * (EVALUATION.md, "Text handling").
 */
const STOPWORDS = new Set(
  'a an and are as at be by for from has have in is it its of on or that the this to was were will with'.split(
    ' ',
  ),
);
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}ー]+/gu;
// A letter or digit with the combining marks after it: a mark NFKC does not compose (Hebrew
// points, Arabic vowel signs, Devanagari vowels) would otherwise cut its word into letters.
const CHARACTER = String.raw`[\p{L}\p{N}_]\p{M}*`;
const WORD = new RegExp(`(?:${CHARACTER})+`, 'gu');
// Starts only where a word starts: without the lookbehind, a dotless run of n letters is retried
// from each of its n positions, each a scan to its end (n² steps: seconds for a 50k-letter URL).
// A match never starts inside a word anyway, as the letter before it would have started it. One
// character back, not a whole CHARACTER: that would rescan a run of n marks from each of them.
const DOTTED_IDENTIFIER = new RegExp(
  String.raw`(?<![\p{L}\p{M}\p{N}_])(?:${CHARACTER})+(?:\.(?:${CHARACTER})+)+`,
  'gu',
);
const SINGLE_HIRAGANA = /^\p{Script=Hiragana}$/u;
const japaneseWords = new Intl.Segmenter('ja', { granularity: 'word' });
/** Changes whenever lexicalTerms splits any text differently: part of a vocabulary model's identity. */
export const TOKENIZER_VERSION = 'words+identifiers+ja-icu-words/3';

export function lexicalTerms(text: string): string[] {
  const normalised = text.normalize('NFKC').toLowerCase();
  const terms: string[] = [];
  for (const run of normalised.match(CJK_RUN) ?? []) {
    for (const { segment, isWordLike } of japaneseWords.segment(run))
      if (isWordLike && !SINGLE_HIRAGANA.test(segment)) terms.push(segment);
  }
  const rest = normalised.replace(CJK_RUN, ' ');
  terms.push(...(rest.match(DOTTED_IDENTIFIER) ?? []));
  for (const word of rest.match(WORD) ?? []) {
    if (word.length > 1 && !STOPWORDS.has(word)) terms.push(word);
  }
  return terms;
}

/**
 * Overlapping character n-grams (NFKC, lower case, whitespace folded): they match names that
 * share a stem ("getaddrinfo" and "getnameinfo", "ファイル" and "ファイルシステム") where
 * whole terms would not.
 */
export function characterNgrams(text: string, n = 3): string[] {
  const chars = [...text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim()];
  const grams: string[] = [];
  for (let i = 0; i + n <= chars.length; i++) grams.push(chars.slice(i, i + n).join(''));
  return grams;
}
