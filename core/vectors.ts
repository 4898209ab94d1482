import { BadDataError } from './errors.js';

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

const AGAIN = 'Run the tenant again: its embeddings are computed again.';

/** Throws BadDataError when `buf` is not a whole vector file (a truncated or corrupt one). */
export function decodeVectors(buf: Buffer): VectorFile {
  const headerLength = buf.length >= 4 ? buf.readUInt32LE(0) : 0;
  let header: VectorHeader;
  try {
    header = JSON.parse(buf.subarray(4, 4 + headerLength).toString('utf8')) as VectorHeader;
  } catch (error) {
    throw new BadDataError(`Not a vector file (its header: ${(error as Error).message}). ${AGAIN}`);
  }
  const start = 4 + headerLength;
  const bytes = buf.subarray(start, start + header.count * header.dim * 4);
  // A short file would read as rows of zeros: posts that all score 0 against each other.
  if (bytes.length !== header.count * header.dim * 4)
    throw new BadDataError(
      `Truncated vector file: ${bytes.length} bytes of rows where its header says ${header.count} x ${header.dim} floats. ${AGAIN}`,
    );
  // Copy into an aligned buffer: the slice of a pooled Buffer may not be 4-byte aligned.
  const data = new Float32Array(header.count * header.dim);
  new Uint8Array(data.buffer).set(bytes);
  return { ...header, data };
}
