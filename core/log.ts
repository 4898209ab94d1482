/**
 * The one logger: JSON lines on stderr (stdout stays free for command output).
 * Cloud Logging parses `severity` and `message`; local runs can pipe stderr to a file.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const base = { service: 'osusume' };
let badLevelReported = false;

/** OSUSUME_LOG_LEVEL's rank; read at each line, so a test or a long process can change it. */
function threshold(): number {
  const level = process.env.OSUSUME_LOG_LEVEL || 'info';
  if (Object.hasOwn(ORDER, level)) return ORDER[level as Level];
  if (!badLevelReported) {
    badLevelReported = true;
    write(
      'warn',
      `OSUSUME_LOG_LEVEL is ${JSON.stringify(level)}: set it to debug, info, warn or error. Logging at info.`,
    );
  }
  return ORDER.info;
}

function write(level: Level, message: string, fields?: Record<string, unknown>): void {
  const line = { severity: level.toUpperCase(), time: new Date().toISOString(), message };
  process.stderr.write(JSON.stringify({ ...line, ...base, ...fields }) + '\n');
}

function emit(level: Level, message: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] >= threshold()) write(level, message, fields);
}

export const log: Logger = {
  debug: (m, f) => emit('debug', m, f),
  info: (m, f) => emit('info', m, f),
  warn: (m, f) => emit('warn', m, f),
  error: (m, f) => emit('error', m, f),
};
