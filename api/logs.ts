import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Exposure, assignment and outcome logs: one JSON object per line, joined later by requestId.
 * In production they go to stdout (a Cloud Logging sink routes them to BigQuery by `logName`); locally
 * to one file per log and day, which the local warehouse can load. Writes are buffered so that
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

/**
 * Lines of one destination, UTF-8 encoded as they are written. A line's string then dies young
 * (a cheap scavenge) instead of living in the heap until the next flush: at thousands of
 * requests per second, 200 ms of pending lines are megabytes that V8 would otherwise promote to
 * the old generation and mark-compact.
 */
class LineChunks {
  private sealed: Buffer[] = [];
  private current = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private used = 0;

  append(line: string): void {
    // At most 3 bytes per UTF-16 unit, and the newline.
    const room = line.length * 3 + 1;
    if (this.used + room > this.current.length) {
      this.seal();
      if (room > this.current.length)
        this.current = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, room));
    }
    this.used += this.current.write(line, this.used, 'utf8');
    this.current[this.used++] = 0x0a;
  }

  /** The encoded lines since the last take, in order. */
  take(): Buffer[] {
    this.seal();
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
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  write(log: LogName, record: Record<string, unknown>): void {
    this.writeJson(log, JSON.stringify(record));
  }

  writeJson(log: LogName, json: string): void {
    const destination = this.destination(log);
    let chunks = this.pending.get(destination);
    if (!chunks) this.pending.set(destination, (chunks = new LineChunks()));
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
    this.flushing = this.flushing.then(() => (batch.length > 0 ? this.emit(batch) : undefined));
    return this.flushing;
  }

  /** Where a log's lines go (lines of one destination keep their order). */
  protected abstract destination(log: LogName): string;
  /** A record's JSON as the line written. */
  protected abstract line(log: LogName, json: string): string;
  protected abstract emit(batch: [destination: string, lines: Buffer[]][]): Promise<void>;
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
      await appendFile(path.join(this.dir, `${log}-${day}.jsonl`), Buffer.concat(lines));
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
    const text = Buffer.concat(batch.flatMap(([, lines]) => lines));
    await new Promise<void>((resolve) => this.out.write(text, () => resolve()));
  }
}
