/**
 * Terms for lexical matching in English and Japanese without a morphological analyser: words for
 * alphabetic scripts, character bigrams for runs of kanji and kana (the usual choice for Japanese
 * search without segmentation). NFKC folds full-width letters and half-width kana first.
 */
const STOPWORDS = new Set(
  'a an and are as at be by for from has have in is it its of on or that the this to was were will with'.split(
    ' ',
  ),
);
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}ー]+/gu;
const WORD = /[\p{L}\p{N}_]+/gu;

export function lexicalTerms(text: string): string[] {
  const normalised = text.normalize('NFKC').toLowerCase();
  const terms: string[] = [];
  for (const run of normalised.match(CJK_RUN) ?? []) {
    const chars = [...run];
    if (chars.length === 1) terms.push(chars[0]!);
    for (let i = 0; i + 1 < chars.length; i++) terms.push(chars[i]! + chars[i + 1]!);
  }
  for (const word of normalised.replace(CJK_RUN, ' ').match(WORD) ?? []) {
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
