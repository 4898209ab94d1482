/**
 * A row-major float32 matrix with a JSON header, as one binary artifact:
 * [u32 header length][header JSON, padded to 4 bytes][float32 rows].
 */
export interface VectorHeader {
  dim: number;
  count: number;
  /** One key per row (content hashes for embeddings). */
  keys: string[];
  meta?: Record<string, string>;
}

export interface VectorFile extends VectorHeader {
  data: Float32Array;
}

export function encodeVectors(file: VectorFile): Buffer {
  if (file.data.length !== file.dim * file.count || file.keys.length !== file.count) {
    throw new Error(
      `vector file is inconsistent: ${file.count} rows x ${file.dim} != ${file.data.length}`,
    );
  }
  const header: VectorHeader = {
    dim: file.dim,
    count: file.count,
    keys: file.keys,
    meta: file.meta,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 4) * 4;
  const out = Buffer.alloc(4 + padded + file.data.byteLength, 0x20);
  out.writeUInt32LE(padded, 0);
  json.copy(out, 4);
  Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength).copy(out, 4 + padded);
  return out;
}

export function decodeVectors(buf: Buffer): VectorFile {
  const headerLength = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + headerLength).toString('utf8')) as VectorHeader;
  const start = 4 + headerLength;
  const bytes = buf.subarray(start, start + header.count * header.dim * 4);
  // Copy into an aligned buffer: the slice of a pooled Buffer may not be 4-byte aligned.
  const data = new Float32Array(header.count * header.dim);
  new Uint8Array(data.buffer).set(bytes);
  return { ...header, data };
}
