/**
 * The error types that cross a boundary. Temporal's retry policies key on `name`
 * (non-retryable: BadDataError, ConfigError), and the CLI prints `message` as-is,
 * so every message says what to do next.
 */
export class OsusumeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that will not get better by retrying: malformed rows, invalid ids, an empty tenant. */
export class BadDataError extends OsusumeError {}

/** A configuration or set-up problem the operator must fix (missing model, bad config file). */
export class ConfigError extends OsusumeError {}

/** A dependency (warehouse, store) failed; retrying may help. */
export class BackendError extends OsusumeError {}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * An error and its causes, outermost first (a failed workflow -> child -> activity -> the error):
 * the last is what actually went wrong.
 */
export function causeChain(error: unknown): unknown[] {
  const chain = [error];
  for (let e = error; e instanceof Error && e.cause !== undefined; e = e.cause) chain.push(e.cause);
  return chain;
}

/**
 * A count with its noun in agreement ("1 tenant", "0 tenants"), for messages that would otherwise
 * say "1 tenant(s)". Kept beside errorMessage: the modules that word messages import this one.
 */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
