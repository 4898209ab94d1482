import { AttributeType, DataType, ModelProto, type DataTypeCode } from './proto.js';

type TypedData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;
type Dim = number | string;
type AttributeValue = number | number[] | string | { float: number } | { floats: number[] };

const IR_VERSION = 8;
const OPSET = 17;

function bytesOf(data: TypedData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function dataTypeOf(data: TypedData): DataTypeCode {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Int8Array) return DataType.INT8;
  if (data instanceof Uint8Array) return DataType.UINT8;
  if (data instanceof Int32Array) return DataType.INT32;
  return DataType.INT64;
}

function attribute(name: string, value: AttributeValue) {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: Buffer.from(value) };
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}

function valueInfo(name: string, elemType: DataTypeCode, dims: Dim[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

/**
 * A small builder for ONNX inference graphs: named inputs, constant tensors, nodes, outputs.
 * `tmp()` hands out unique intermediate names so model code reads like the math it computes.
 */
export class GraphBuilder {
  private readonly nodes: object[] = [];
  private readonly initializers: object[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private counter = 0;

  tmp(prefix = 't'): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  input(name: string, elemType: DataTypeCode, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: DataTypeCode, dims: Dim[]): string {
    this.outputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  constant(data: TypedData, dims: number[], name = this.tmp('c')): string {
    this.initializers.push({ name, dims, dataType: dataTypeOf(data), rawData: bytesOf(data) });
    return name;
  }

  /** Adds a node with one output and returns that output's name. */
  op(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    output = this.tmp(opType.toLowerCase()),
    domain = '',
  ): string {
    this.nodes.push({
      opType,
      input: inputs,
      output: [output],
      name: output,
      domain,
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** Adds a node with several outputs (e.g. DynamicQuantizeLinear). */
  opMulti(opType: string, inputs: string[], outputCount: number): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.tmp(opType.toLowerCase()));
    this.nodes.push({ opType, input: inputs, output: outputs, name: outputs[0], attribute: [] });
    return outputs;
  }

  toBytes(options: {
    producer: string;
    metadata?: Record<string, string>;
    docString?: string;
  }): Uint8Array {
    const message = ModelProto.create({
      irVersion: IR_VERSION,
      producerName: options.producer,
      producerVersion: '1',
      docString: options.docString ?? '',
      opsetImport: [{ domain: '', version: OPSET }],
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: options.producer,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return ModelProto.encode(message).finish();
  }
}
