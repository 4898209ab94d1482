import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { GraphBuilder } from '../onnx/graph.js';
import { DataType } from '../onnx/proto.js';
import { createNormal } from '../random.js';
import { buildVocabulary, SPECIAL_TOKENS, wordPieceTokenizerJson } from './wordpiece.js';

/**
 * A model built from the corpus itself, for machines that cannot download pretrained weights:
 * each token gets a fixed random direction scaled by its IDF, so the mean-pooled output is a
 * random projection of the post's TF-IDF vector (cosines are preserved, Johnson-Lindenstrauss).
 * It is lexical, not semantic, but it runs through the real path: tokenizer.json + model.onnx
 * with BERT's inputs and a last_hidden_state output.
 */
export interface LexicalModelOptions {
  dim?: number;
  maxWords?: number;
  seed?: number;
}

export function buildLexicalModel(
  texts: string[],
  dir: string,
  options: LexicalModelOptions = {},
): { vocabSize: number; dim: number } {
  const dim = options.dim ?? 256;
  const vocab = buildVocabulary(texts, {
    maxWords: options.maxWords ?? 30_000,
    minDocumentFrequency: 2,
  });
  const tokenizerJson = wordPieceTokenizerJson(vocab);
  const tokenizer = new Tokenizer(tokenizerJson as never, {});
  const df = new Float64Array(vocab.length);
  for (const t of texts) for (const id of new Set<number>(tokenizer.encode(t).ids)) df[id]! += 1;

  const normal = createNormal(options.seed ?? 42);
  const table = new Float32Array(vocab.length * dim);
  const scale = 1 / Math.sqrt(dim);
  for (let id = SPECIAL_TOKENS.length; id < vocab.length; id++) {
    const idf = Math.log((texts.length + 1) / (df[id]! + 1)) + 1;
    for (let d = 0; d < dim; d++) table[id * dim + d] = normal() * scale * idf;
  }

  const g = new GraphBuilder();
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);
  const vectors = g.op('Gather', [g.constant(table, [vocab.length, dim]), ids], { axis: 0 });
  const maskF = g.op('Unsqueeze', [
    g.op('Cast', [mask], { to: DataType.FLOAT }),
    g.constant(BigInt64Array.of(-1n), [1]),
  ]);
  g.op('Mul', [vectors, maskF], {}, 'last_hidden_state');
  g.output('last_hidden_state', DataType.FLOAT, ['batch', 'sequence', dim]);

  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
  writeFileSync(
    path.join(dir, 'model.onnx'),
    g.toBytes({
      producer: 'osusume-lexical',
      docString: `IDF-weighted random projection, ${vocab.length} tokens x ${dim}`,
    }),
  );
  return { vocabSize: vocab.length, dim };
}
