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
  flush(): Promise<void>;
}

const FLUSH_MS = 200;

abstract class BufferedSink implements LogSink {
  private buffer: { log: LogName; line: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  write(log: LogName, record: Record<string, unknown>): void {
    this.buffer.push({ log, line: JSON.stringify(record) });
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(() => (batch.length > 0 ? this.emit(batch) : undefined));
    return this.flushing;
  }

  protected abstract emit(batch: { log: LogName; line: string }[]): Promise<void>;
}

export class FileLogSink extends BufferedSink {
  constructor(private readonly dir: string) {
    super();
  }

  protected async emit(batch: { log: LogName; line: string }[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const day = new Date().toISOString().slice(0, 10);
    const byLog = new Map<LogName, string[]>();
    for (const { log, line } of batch) {
      const lines = byLog.get(log);
      if (lines) lines.push(line);
      else byLog.set(log, [line]);
    }
    for (const [log, lines] of byLog)
      await appendFile(path.join(this.dir, `${log}-${day}.jsonl`), lines.join('\n') + '\n');
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

  protected async emit(batch: { log: LogName; line: string }[]): Promise<void> {
    const text =
      batch
        .map(({ log, line }) => `{"logName":"osusume-${log}","record":${JSON.stringify(line)}}`)
        .join('\n') + '\n';
    await new Promise<void>((resolve) => this.out.write(text, () => resolve()));
  }
}
