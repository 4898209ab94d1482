import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';

/**
 * Retry and timeout profiles, one per kind of step. Bad data and bad configuration do not get
 * better by retrying: those errors fail the tenant at once, with their message.
 */
export const retry: RetryPolicy = {
  initialInterval: '10s',
  backoffCoefficient: 2,
  maximumInterval: '10m',
  maximumAttempts: 5,
  nonRetryableErrorTypes: ['BadDataError', 'ConfigError'],
};

/** Warehouse reads, small writes, planning. */
export const quickSteps: ActivityOptions = { startToCloseTimeout: '15m', retry };

/** Embedding and neighbour search: long, heartbeating, resumable. */
export const heavySteps: ActivityOptions = {
  startToCloseTimeout: '4h',
  heartbeatTimeout: '2m',
  retry,
};

/** Bulk writes of lists to the store. */
export const writeSteps: ActivityOptions = { startToCloseTimeout: '1h', retry };

/** Alerts: a few tries, then give up; a failed alert must not fail the run's report. */
export const alertSteps: ActivityOptions = {
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3 },
};
