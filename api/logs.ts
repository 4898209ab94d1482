import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';

/**
 * Exposure, assignment and outcome logs: one JSON object per line, joined later by requestId.
 * In production they go to stdout (a Cloud Logging sink routes them to BigQuery by `logName`); locally
 * to one file per log and day, which `osusume results` reads as they are (core/results.ts: no
 * loader puts them into the DuckDB warehouse). Writes are buffered so that
 * logging never sits on a request's path.
 */
export type LogName = 'exposure' | 'assignment' | 'outcome';

export interface LogSink {
  write(log: LogName, record: Record<string, unknown>): void;
  /** The same with the record already serialised (one JSON object, no newline). */
  writeJson(log: LogName, json: string): void;
  flush(): Promise<void>;
}

const FLUSH_MS = 200;
/** Lines are encoded into chunks of this size, allocated outside V8's heap. */
const CHUNK_BYTES = 64 * 1024;
/** Written-out chunks kept for reuse: 4 MiB, twice what a flush holds at 7,000 requests/s. */
const POOL_CHUNKS = 64;

/**
 * Chunks whose lines were written out, reused for the next lines. A fresh chunk is memory the
 * kernel has to map page by page as the first lines land in it, and it is only given back once
 * V8 collects its Buffer; a reused one is mapped already and was touched recently (under load
 * this saved several µs per request in `npm run bench:api`).
 */
class ChunkPool {
  private readonly free: Buffer[] = [];

  take(bytes: number): Buffer {
    return (
      (bytes <= CHUNK_BYTES && this.free.pop()) ||
      Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, bytes))
    );
  }

  /** Gives back the chunks under these lines; none of them may be written to any more. */
  give(lines: readonly Buffer[]): void {
    let last: ArrayBufferLike | undefined;
    for (const { buffer } of lines) {
      // Lines of one chunk are consecutive; a chunk is given once.
      if (buffer === last || buffer.byteLength !== CHUNK_BYTES || this.free.length === POOL_CHUNKS)
        continue;
      last = buffer;
      this.free.push(Buffer.from(buffer));
    }
  }
}

const NO_ROOM = Buffer.alloc(0);

/**
 * Lines of one destination, UTF-8 encoded as they are written. A line's string then dies young
 * (a cheap scavenge) instead of living in the heap until the next flush: at thousands of
 * requests per second, 200 ms of pending lines are megabytes that V8 would otherwise promote to
 * the old generation and mark-compact.
 */
class LineChunks {
  private sealed: Buffer[] = [];
  private current: Buffer = NO_ROOM;
  private used = 0;

  constructor(private readonly pool: ChunkPool) {}

  append(line: string): void {
    // At most 3 bytes per UTF-16 unit, and the newline.
    const room = line.length * 3 + 1;
    if (this.used + room > this.current.length) {
      this.seal();
      if (room > this.current.length) this.current = this.pool.take(room);
    }
    this.used += this.current.write(line, this.used, 'utf8');
    this.current[this.used++] = 0x0a;
  }

  /**
   * The encoded lines since the last take, in order. The chunk being filled is left with them,
   * so that once they are written out their chunks can be reused whole.
   */
  take(): Buffer[] {
    this.seal();
    this.current = NO_ROOM;
    const taken = this.sealed;
    this.sealed = [];
    return taken;
  }

  /** Closes the written part; the rest of the chunk takes the next lines. */
  private seal(): void {
    if (this.used === 0) return;
    this.sealed.push(this.current.subarray(0, this.used));
    this.current = this.current.subarray(this.used);
    this.used = 0;
  }
}

abstract class BufferedSink implements LogSink {
  private readonly pending = new Map<string, LineChunks>();
  private readonly pool = new ChunkPool();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  write(log: LogName, record: Record<string, unknown>): void {
    this.writeJson(log, JSON.stringify(record));
  }

  writeJson(log: LogName, json: string): void {
    const destination = this.destination(log);
    let chunks = this.pending.get(destination);
    if (!chunks) this.pending.set(destination, (chunks = new LineChunks(this.pool)));
    chunks.append(this.line(log, json));
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch: [string, Buffer[]][] = [];
    for (const [destination, chunks] of this.pending) {
      const taken = chunks.take();
      if (taken.length > 0) batch.push([destination, taken]);
    }
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      await this.emit(batch);
      for (const [, lines] of batch) this.pool.give(lines);
    });
    return this.flushing;
  }

  /** Where a log's lines go (lines of one destination keep their order). */
  protected abstract destination(log: LogName): string;
  /** A record's JSON as the line written. */
  protected abstract line(log: LogName, json: string): string;
  protected abstract emit(batch: [destination: string, lines: Buffer[]][]): Promise<void>;
}

/** Buffers one writev takes (Linux's IOV_MAX). */
const IOV_MAX = 1024;

/**
 * Appends the chunks as they are, without copying them into one buffer first (a flush holds
 * megabytes at full load, which a copy would take from fresh pages every 200 ms).
 */
async function appendLines(file: string, lines: Buffer[]): Promise<void> {
  const handle = await open(file, 'a');
  try {
    for (let i = 0; i < lines.length; i += IOV_MAX) {
      const group = lines.slice(i, i + IOV_MAX);
      const { bytesWritten } = await handle.writev(group);
      const bytes = group.reduce((sum, line) => sum + line.length, 0);
      // A write may stop short (a full disk, a signal): the rest goes the slow way, or fails.
      if (bytesWritten < bytes)
        await handle.appendFile(Buffer.concat(group).subarray(bytesWritten));
    }
  } finally {
    await handle.close();
  }
}

export class FileLogSink extends BufferedSink {
  constructor(private readonly dir: string) {
    super();
  }

  protected destination(log: LogName): string {
    return log;
  }

  protected line(_log: LogName, json: string): string {
    return json;
  }

  protected async emit(batch: [string, Buffer[]][]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const day = new Date().toISOString().slice(0, 10);
    for (const [log, lines] of batch)
      await appendLines(path.join(this.dir, `${log}-${day}.jsonl`), lines);
  }
}

/**
 * One Cloud Logging entry per record: `{"logName":"osusume-exposure","record":"<the record as JSON text>"}`.
 * The record travels as a string because a BigQuery log sink infers columns from the values it
 * has seen (a field that was always null, such as `team` before the first interleaving test, has
 * no column yet); the hourly loader parses the text into typed tables (infra/sql/load-logs.sql).
 */
export class StdoutLogSink extends BufferedSink {
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {
    super();
  }

  protected destination(): string {
    return 'stdout';
  }

  protected line(log: LogName, json: string): string {
    return `{"logName":"osusume-${log}","record":${JSON.stringify(json)}}`;
  }

  protected async emit(batch: [string, Buffer[]][]): Promise<void> {
    const lines = batch.flatMap(([, chunks]) => chunks);
    // The stream keeps the chunks until they are written; the last callback says all are.
    await new Promise<void>((resolve) =>
      lines.forEach((chunk, i) =>
        this.out.write(chunk, i === lines.length - 1 ? () => resolve() : undefined),
      ),
    );
  }
}
