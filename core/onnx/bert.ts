import { normalArray } from '../random.js';
import { GraphBuilder } from './graph.js';
import { DataType } from './proto.js';

/**
 * A BERT-shaped encoder with random weights: the same inputs, outputs and operators as an
 * exported sentence-embedding model (multilingual-e5-small is 12 x 384), for tests and benchmarks
 * on machines that cannot download real weights. `int8` writes it as onnxruntime's dynamic
 * quantisation does (DynamicQuantizeLinear + MatMulInteger), so int8 loading is exercised too.
 */
export interface BertShape {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  int8?: boolean;
  seed?: number;
}

export function buildBertModel(shape: BertShape): Uint8Array {
  const { vocabSize, hidden: H, layers, heads, intermediate, maxPositions } = shape;
  if (H % heads !== 0) throw new Error(`hidden (${H}) must be divisible by heads (${heads})`);
  const dh = H / heads;
  let seed = shape.seed ?? 1;
  const weights = (n: number) => normalArray(n, 0.02, seed++);
  const g = new GraphBuilder();
  const scalarI64 = (v: number) => g.constant(BigInt64Array.of(BigInt(v)), []);
  const vecI64 = (...v: number[]) => g.constant(BigInt64Array.from(v.map(BigInt)), [v.length]);
  const scalarF = (v: number) => g.constant(Float32Array.of(v), []);

  const linear = (x: string, inDim: number, outDim: number): string => {
    const w = weights(inDim * outDim);
    const bias = g.constant(new Float32Array(outDim), [outDim]);
    if (!shape.int8)
      return g.op('Add', [g.op('MatMul', [x, g.constant(w, [inDim, outDim])]), bias]);
    const scale = Math.max(...w.map(Math.abs)) / 127;
    const wq = Int8Array.from(w, (v) => Math.round(v / scale));
    const [xq, xScale, xZero] = g.opMulti('DynamicQuantizeLinear', [x], 3) as [
      string,
      string,
      string,
    ];
    const acc = g.op('MatMulInteger', [
      xq,
      g.constant(wq, [inDim, outDim]),
      xZero,
      g.constant(Int8Array.of(0), []),
    ]);
    const rescale = g.op('Mul', [xScale, scalarF(scale)]);
    return g.op('Add', [g.op('Mul', [g.op('Cast', [acc], { to: DataType.FLOAT }), rescale]), bias]);
  };
  const layerNorm = (x: string): string =>
    g.op(
      'LayerNormalization',
      [x, g.constant(new Float32Array(H).fill(1), [H]), g.constant(new Float32Array(H), [H])],
      {
        axis: -1,
        epsilon: { float: 1e-12 },
      },
    );

  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);
  const types = g.input('token_type_ids', DataType.INT64, ['batch', 'sequence']);

  const seqLen = g.op('Gather', [g.op('Shape', [ids]), scalarI64(1)], { axis: 0 });
  const positions = g.op('Range', [scalarI64(0), seqLen, scalarI64(1)]);
  const word = g.op('Gather', [g.constant(weights(vocabSize * H), [vocabSize, H]), ids], {
    axis: 0,
  });
  const pos = g.op(
    'Gather',
    [g.constant(weights(maxPositions * H), [maxPositions, H]), positions],
    { axis: 0 },
  );
  const type = g.op('Gather', [g.constant(weights(2 * H), [2, H]), types], { axis: 0 });
  let x = layerNorm(g.op('Add', [g.op('Add', [word, pos]), type]));

  // Additive attention bias: 0 for real tokens, -10000 for padding; shape [batch, 1, 1, seq].
  const maskF = g.op('Cast', [mask], { to: DataType.FLOAT });
  const bias = g.op('Mul', [g.op('Sub', [scalarF(1), maskF]), scalarF(-10000)]);
  const attentionBias = g.op('Unsqueeze', [bias, vecI64(1, 2)]);
  const splitHeads = vecI64(0, 0, heads, dh);
  const mergeHeads = vecI64(0, 0, H);

  for (let l = 0; l < layers; l++) {
    const q = g.op('Transpose', [g.op('Reshape', [linear(x, H, H), splitHeads])], {
      perm: [0, 2, 1, 3],
    });
    const k = g.op('Transpose', [g.op('Reshape', [linear(x, H, H), splitHeads])], {
      perm: [0, 2, 3, 1],
    });
    const v = g.op('Transpose', [g.op('Reshape', [linear(x, H, H), splitHeads])], {
      perm: [0, 2, 1, 3],
    });
    const scores = g.op('Add', [
      g.op('Mul', [g.op('MatMul', [q, k]), scalarF(1 / Math.sqrt(dh))]),
      attentionBias,
    ]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.op('Reshape', [
      g.op('Transpose', [context], { perm: [0, 2, 1, 3] }),
      mergeHeads,
    ]);
    x = layerNorm(g.op('Add', [linear(merged, H, H), x]));
    const up = linear(x, H, intermediate);
    // GELU as BERT defines it: 0.5 x (1 + erf(x / sqrt 2)); onnxruntime fuses this pattern.
    const erf = g.op('Erf', [g.op('Div', [up, scalarF(Math.SQRT2)])]);
    const gelu = g.op('Mul', [g.op('Mul', [up, g.op('Add', [erf, scalarF(1)])]), scalarF(0.5)]);
    x = layerNorm(g.op('Add', [linear(gelu, intermediate, H), x]));
  }
  g.op('Identity', [x], {}, 'last_hidden_state');
  g.output('last_hidden_state', DataType.FLOAT, ['batch', 'sequence', H]);
  return g.toBytes({
    producer: 'osusume-random-bert',
    docString: `Random-weight BERT-shaped encoder (${layers} x ${H}${shape.int8 ? ', int8' : ''}) for tests.`,
  });
}
