/**
 * The longest the event loop waits while a computation runs (perf_hooks' event-loop delay): how
 * long a batch step's heartbeat, or its cancellation, waits at worst. Shared by the benchmarks of
 * the steps that pace themselves (core/pacing.ts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const turn = () => new Promise((resolve) => setTimeout(resolve, 30));

/** Seconds `work` takes, and the longest the event loop waited meanwhile, in seconds. */
export async function timedWithStall(
  work: () => unknown,
): Promise<{ seconds: number; longestStall: number }> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // Its first tick only starts the clock: let it tick before the work, and once more after.
  await turn();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  await turn();
  delay.disable();
  return { seconds, longestStall: delay.max / 1e9 };
}
