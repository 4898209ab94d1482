/**
 * Writes a Hugging Face `tokenizer.json` for a BERT WordPiece tokenizer (lower-casing, CJK
 * characters split, accents kept so that Japanese kana keep their voicing marks), and builds
 * its vocabulary from a corpus: frequent words, plus every character seen so that any text
 * tokenizes without [UNK].
 */
const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

// Mirrors BertNormalizer + BertPreTokenizer closely enough to choose a vocabulary; the real
// tokenizer decides the final split.
const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2fa1f}]/gu;
const PUNCT = /([\p{P}\p{S}])/u;

function preTokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(CJK, (c) => ` ${c} `)
    .split(/\s+/)
    .flatMap((w) => w.split(PUNCT))
    .filter((w) => w.length > 0);
}

export interface VocabularyOptions {
  maxWords: number;
  minDocumentFrequency: number;
}

export function buildVocabulary(texts: Iterable<string>, options: VocabularyOptions): string[] {
  const df = new Map<string, number>();
  const chars = new Set<string>();
  for (const t of texts) {
    const words = new Set(preTokenize(t));
    for (const w of words) {
      df.set(w, (df.get(w) ?? 0) + 1);
      for (const c of w) chars.add(c);
    }
  }
  const words = [...df.entries()]
    .filter(
      ([w, n]) => n >= options.minDocumentFrequency && [...w].length > 1 && [...w].length <= 100,
    )
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, options.maxWords)
    .map(([w]) => w);
  const charList = [...chars].sort();
  const vocab = [...SPECIAL_TOKENS, ...charList, ...charList.map((c) => `##${c}`), ...words];
  return [...new Set(vocab)];
}

export function wordPieceTokenizerJson(vocab: string[]): object {
  const index = new Map(vocab.map((token, id) => [token, id]));
  const idOf = (token: string) => {
    const id = index.get(token);
    if (id === undefined) throw new Error(`vocabulary lacks the special token ${token}`);
    return id;
  };
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: idOf(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: false,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]')],
      pair: [
        special('[CLS]'),
        { Sequence: { id: 'A', type_id: 0 } },
        special('[SEP]'),
        { Sequence: { id: 'B', type_id: 1 } },
        special('[SEP]'),
      ],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [idOf(t)], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(index),
    },
  };
}
