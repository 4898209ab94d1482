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

/** How many logAsDebug calls are running: while any is, every line counts as debug. */
let asDebug = 0;

function emit(level: Level, message: string, fields?: Record<string, unknown>): void {
  // A demoted line keeps its severity: at debug it reads as what it was.
  if (ORDER[asDebug > 0 ? 'debug' : level] >= threshold()) write(level, message, fields);
}

/**
 * Runs `fn` with every line it logs shown only at OSUSUME_LOG_LEVEL=debug: for a command that
 * runs the batch as a means (evaluate) and prints what matters of it in its own words, where the
 * batch's JSON lines would only repeat that among its results.
 */
export async function logAsDebug<T>(fn: () => Promise<T>): Promise<T> {
  asDebug++;
  try {
    return await fn();
  } finally {
    asDebug--;
  }
}

export const log: Logger = {
  debug: (m, f) => emit('debug', m, f),
  info: (m, f) => emit('info', m, f),
  warn: (m, f) => emit('warn', m, f),
  error: (m, f) => emit('error', m, f),
};
