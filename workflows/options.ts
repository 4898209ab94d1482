import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';

/**
 * Retry and timeout profiles, one per kind of step. Bad data and bad configuration do not get
 * better by retrying: those errors fail the tenant at once, with their message.
 */
const retry: RetryPolicy = {
  initialInterval: '10s',
  backoffCoefficient: 2,
  maximumInterval: '10m',
  maximumAttempts: 5,
  // Temporal matches the error's name exactly, not its class: subclasses are listed too.
  nonRetryableErrorTypes: ['BadDataError', 'ConfigError', 'ImmutableVersionError'],
};

/**
 * Every step heartbeats (activities/temporal.ts), so a step whose worker died is retried on
 * another worker after this long, not after its start-to-close timeout.
 */
const HEARTBEAT_TIMEOUT = '2m';

/** Warehouse reads, small writes, planning. */
export const quickSteps: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry,
};

/** Embedding and neighbour search: long, resumable from their last heartbeat. */
export const heavySteps: ActivityOptions = {
  startToCloseTimeout: '4h',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry,
};

/** Bulk writes of lists to the store. */
export const writeSteps: ActivityOptions = {
  startToCloseTimeout: '1h',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry,
};

/** Alerts: a few tries, then give up; a failed alert must not fail the run's report. */
export const alertSteps: ActivityOptions = {
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3 },
};
