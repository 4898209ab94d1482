import { setImmediate } from 'node:timers/promises';

/** Where a long computation is: its stage, and the units of that stage (rows, terms...) done. */
export interface Progress {
  stage: string;
  done: number;
  total: number;
}

/**
 * A long computation as steps: it yields its progress after each small unit of work
 * (milliseconds at most) and returns its result. Driven at once (runAtOnce) or with pauses for
 * the event loop (runPaced), it runs the same arithmetic in the same order: the same result.
 */
export type Steps<R> = Generator<Progress, R>;

/** Runs the steps at once, holding the thread until done: for scripts, evaluation and tests. */
export function runAtOnce<R>(steps: Steps<R>): R {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `step(0)`, `step(1)`... `step(total - 1)`, a progress step after each: a pass over a tenant's
 * posts is linear, but at tens of thousands of posts it takes seconds in one go.
 */
export function* loopSteps(total: number, stage: string, step: (i: number) => void): Steps<void> {
  for (let i = 0; i < total; i++) {
    step(i);
    yield { stage, done: i + 1, total };
  }
}

/** `items.map(map)`, a progress step after each item (loopSteps). */
export function* mapSteps<T, U>(
  items: readonly T[],
  stage: string,
  map: (item: T, i: number) => U,
): Steps<U[]> {
  const out: U[] = [];
  yield* loopSteps(items.length, stage, (i) => out.push(map(items[i]!, i)));
  return out;
}

/** How long runPaced works, by default, between two turns of the event loop. */
const PAUSE_EVERY_MS = 50;

export interface Pacing {
  /** Called after each pause with where the work is; may throw to abort it (a cancelled step). */
  onPause?: (progress: Progress) => void;
  /** Work at most about this long between pauses (0: pause after every unit of work). */
  everyMs?: number;
}

/**
 * The same result as runAtOnce, for the batch's steps: a computation that takes minutes on a large
 * tenant (BENCHMARKS.md) would otherwise hold the thread so long that the step could neither
 * heartbeat (Temporal would time the attempt out, and every retry would start again from scratch)
 * nor hear that it is cancelled. So it lets the event loop run (timers, I/O) every `everyMs`, then
 * calls `onPause`.
 */
export async function runPaced<R>(
  steps: Steps<R>,
  { onPause = () => {}, everyMs = PAUSE_EVERY_MS }: Pacing = {},
): Promise<R> {
  let worked = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - worked >= everyMs) {
      await setImmediate();
      onPause(step.value);
      worked = performance.now();
    }
  }
}
