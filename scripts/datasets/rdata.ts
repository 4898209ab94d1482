/**
 * A reader for R's lazy-load databases (an installed package's data/Rdata.rdb + Rdata.rdx), enough
 * for data frames of numbers, strings and factors: R's XDR serialization (formats 2 and 3), zlib-
 * compressed entries. Used to read MovieLens from Debian's r-cran-dslabs without installing R.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync, inflateSync } from 'node:zlib';
import { ConfigError } from '../../core/errors.js';

export type RValue =
  | null
  | { type: 'int' | 'real' | 'logical'; values: number[]; attrs: RAttrs }
  | { type: 'string'; values: (string | null)[]; attrs: RAttrs }
  | { type: 'list'; values: RValue[]; attrs: RAttrs }
  | { type: 'pairlist'; values: RValue[]; tags: (string | null)[]; attrs: RAttrs }
  | { type: 'symbol'; name: string }
  | { type: 'other'; sexp: number };
export type RAttrs = Map<string, RValue>;

const NA_INTEGER = -2147483648;

class XdrReader {
  private at = 0;
  private readonly refs: RValue[] = [];
  constructor(private readonly buf: Buffer) {}

  int(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  length(): number {
    const n = this.int();
    return n === -1 ? this.int() * 2 ** 32 + (this.int() >>> 0) : n;
  }

  header(): void {
    if (this.buf.toString('latin1', 0, 2) !== 'X\n')
      throw new ConfigError('not an R XDR serialization (expected "X\\n")');
    this.at = 2;
    const version = this.int();
    this.int();
    this.int();
    if (version === 3) this.at += 4 + this.int();
  }

  private attrs(flags: number): RAttrs {
    const attrs: RAttrs = new Map();
    if (!(flags & (1 << 9))) return attrs;
    const list = this.item();
    if (list && list.type === 'pairlist')
      list.values.forEach((v, i) => attrs.set(list.tags[i] ?? '', v));
    return attrs;
  }

  private charsxp(): string | null {
    this.int(); // flags of the CHARSXP (encoding bits)
    const n = this.int();
    if (n === -1) return null;
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  item(): RValue {
    const flags = this.int();
    const type = flags & 0xff;
    switch (type) {
      case 254: // NILVALUE
      case 242: // EMPTYENV
      case 241: // BASEENV
      case 253: // GLOBALENV
      case 252: // UNBOUNDVALUE
      case 251: // MISSINGARG
      case 247: // BASENAMESPACE
        return null;
      case 255: {
        const index = flags >> 8 || this.int();
        return this.refs[index - 1] ?? null;
      }
      case 1: {
        // SYMSXP: its name is a CHARSXP; later uses refer back to it
        const name = this.charsxp() ?? '';
        const sym: RValue = { type: 'symbol', name };
        this.refs.push(sym);
        return sym;
      }
      case 2: // LISTSXP
      case 6: // LANGSXP
      case 17: {
        // ATTRLISTSXP
        const values: RValue[] = [];
        const tags: (string | null)[] = [];
        let f = flags;
        let attrs: RAttrs = new Map();
        for (;;) {
          const a = this.attrs(f);
          if (values.length === 0) attrs = a;
          const tag = f & (1 << 10) ? this.item() : null;
          tags.push(tag && tag.type === 'symbol' ? tag.name : null);
          values.push(this.item());
          f = this.int();
          if ((f & 0xff) !== 2 && (f & 0xff) !== 6 && (f & 0xff) !== 17) {
            if ((f & 0xff) !== 254) throw new ConfigError(`unexpected pairlist tail ${f & 0xff}`);
            return { type: 'pairlist', values, tags, attrs };
          }
        }
      }
      case 9:
        this.at -= 4;
        return { type: 'string', values: [this.charsxp()], attrs: new Map() };
      case 10:
      case 13: {
        const n = this.length();
        const values: number[] = [];
        for (let i = 0; i < n; i++) {
          const v = this.int();
          values.push(v === NA_INTEGER ? NaN : v);
        }
        return { type: type === 13 ? 'int' : 'logical', values, attrs: this.attrs(flags) };
      }
      case 14: {
        const n = this.length();
        const values: number[] = [];
        for (let i = 0; i < n; i++, this.at += 8) values.push(this.buf.readDoubleBE(this.at));
        return { type: 'real', values, attrs: this.attrs(flags) };
      }
      case 16: {
        const n = this.length();
        const values: (string | null)[] = [];
        for (let i = 0; i < n; i++) values.push(this.charsxp());
        return { type: 'string', values, attrs: this.attrs(flags) };
      }
      case 19:
      case 20: {
        const n = this.length();
        const values: RValue[] = [];
        for (let i = 0; i < n; i++) values.push(this.item());
        return { type: 'list', values, attrs: this.attrs(flags) };
      }
      case 238: {
        // ALTREP: class info, state, attributes. Compact sequences are the ones data frames use.
        const info = this.item();
        const state = this.item();
        const attrs = this.item();
        const cls = info && info.type === 'pairlist' ? info.values[0] : null;
        const name = cls && cls.type === 'symbol' ? cls.name : '?';
        if ((name === 'compact_intseq' || name === 'compact_realseq') && state?.type === 'real') {
          const [n, start, step] = state.values as [number, number, number];
          const values = Array.from({ length: n }, (_, i) => start + i * step);
          const a: RAttrs = new Map();
          if (attrs && attrs.type === 'pairlist')
            attrs.values.forEach((v, i) => a.set(attrs.tags[i] ?? '', v));
          return { type: name === 'compact_intseq' ? 'int' : 'real', values, attrs: a };
        }
        if (name === 'wrap_integer' || name === 'wrap_real' || name === 'wrap_string') {
          const wrapped = state && state.type === 'pairlist' ? state.values[0] : null;
          return wrapped ?? null;
        }
        throw new ConfigError(`unsupported ALTREP class ${name}`);
      }
      default:
        throw new ConfigError(`unsupported R object type ${type}`);
    }
  }
}

/** One object of a serialized stream (the bytes after decompression). */
function unserialize(buf: Buffer): RValue {
  const reader = new XdrReader(buf);
  reader.header();
  return reader.item();
}

/** Decompresses one lazy-load entry: a 4-byte length, then zlib (or a type byte and its data). */
function inflateEntry(entry: Buffer): Buffer {
  const kind = entry[4];
  if (kind === 0x5a /* Z */) return inflateSync(entry.subarray(5));
  if (kind === 0x30 /* 0 */) return entry.subarray(5);
  if (kind === 0x32 || kind === 0x58)
    throw new ConfigError('bzip2/xz-compressed R data is not supported; only zlib');
  return inflateSync(entry.subarray(4));
}

/** The named objects of a lazy-load database: `base` + ".rdb" and ".rdx". */
export function readLazyLoadDb(base: string): Map<string, () => RValue> {
  const rdx = readFileSync(`${base}.rdx`);
  // R writes the index like an entry; Debian's packaging leaves it gzip-compressed instead.
  const index = unserialize(
    rdx[0] === 0x1f && rdx[1] === 0x8b ? gunzipSync(rdx) : inflateEntry(rdx),
  );
  const rdb = readFileSync(`${base}.rdb`);
  if (!index || index.type !== 'list') throw new ConfigError(`${base}.rdx: not a lazy-load index`);
  const names = index.attrs.get('names');
  const variables = index.values[names?.type === 'string' ? names.values.indexOf('variables') : 0];
  if (!variables || variables.type !== 'list')
    throw new ConfigError(`${base}.rdx: no variables in the index`);
  const varNames = variables.attrs.get('names');
  const objects = new Map<string, () => RValue>();
  variables.values.forEach((v, i) => {
    if (!v || (v.type !== 'int' && v.type !== 'real') || varNames?.type !== 'string') return;
    const [offset, length] = v.values as [number, number];
    objects.set(varNames.values[i]!, () =>
      unserialize(inflateEntry(rdb.subarray(offset, offset + length))),
    );
  });
  return objects;
}

/** Columns of a data frame: numbers, strings, factors as their labels. */
export function dataFrameColumns(df: RValue): Map<string, (number | string | null)[]> {
  if (!df || df.type !== 'list') throw new ConfigError('not a data frame');
  const names = df.attrs.get('names');
  if (names?.type !== 'string') throw new ConfigError('data frame without column names');
  const columns = new Map<string, (number | string | null)[]>();
  df.values.forEach((col, i) => {
    const name = names.values[i] ?? `V${i + 1}`;
    if (!col || col.type === 'symbol' || col.type === 'other') return;
    const levels = col.attrs.get('levels');
    if (col.type === 'int' && levels?.type === 'string')
      columns.set(
        name,
        col.values.map((v) => (Number.isNaN(v) ? null : (levels.values[v - 1] ?? null))),
      );
    else if (col.type === 'int' || col.type === 'real' || col.type === 'logical')
      columns.set(
        name,
        col.values.map((v) => (Number.isNaN(v) ? null : v)),
      );
    else if (col.type === 'string') columns.set(name, col.values);
  });
  return columns;
}
