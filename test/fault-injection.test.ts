import { afterAll, describe, expect, it } from 'vitest';
import { faultInjection, type FaultInjectionReport } from '../scripts/fault-inject.js';
import {
  firestoreTestMode,
  startFirestoreEmulator,
  type Emulator,
} from './helpers/firestore-emulator.js';
import { devServerOrSkip } from './helpers/temporal-server.js';

/**
 * A few SIGKILLs per store and of Temporal workers (`osusume fault-inject` runs more:
 * BENCHMARKS.md): after each, every tenant serves one whole version through the store and the
 * API, the killed run completes, and the last run's collection leaves nothing unreferenced.
 */
function expectSound(report: FaultInjectionReport): void {
  expect(report.injections).toBeGreaterThan(0);
  expect(report).toMatchObject({
    tornVersions: 0,
    apiMismatches: 0,
    failedReruns: 0,
    leakedBytes: 0,
    leakedVersions: 0,
  });
  expect(report.apiChecks).toBeGreaterThan(0);
}

const server = await devServerOrSkip('Temporal fault injection test');

describe('fault injection', () => {
  it('LMDB: kills of the batch never tear a version, and collection leaks nothing', async () => {
    expectSound(await faultInjection({ kills: 3, store: 'lmdb', seed: 7 }));
  }, 300_000);

  const mode = firestoreTestMode();
  if (mode === 'skip') {
    it.skip('Firestore: skipped, the emulator is not installed');
  } else {
    let emulator: Emulator | undefined;
    afterAll(async () => emulator?.stop());
    it('Firestore emulator: the same', async () => {
      emulator = await startFirestoreEmulator();
      // At the start of activate and storeLists: a kill inside activate's transaction leaves the
      // emulator holding the tenant's lock for about a minute, which the re-run must wait out.
      expectSound(
        await faultInjection({
          kills: 2,
          store: 'firestore',
          seed: 3,
          aimAt: ['activate', 'storeLists'],
          aimWithinMs: 30,
        }),
      );
    }, 300_000);
  }

  describe('Temporal workers', () => {
    afterAll(async () => server?.teardown());
    it.skipIf(server === null)(
      'the same when the worker running the batch workflow is killed: Temporal retries the interrupted steps on the next worker',
      async () => {
        // Each kill as soon as its step is seen running: a kill timed at random could land between
        // steps on a quiet machine, and then no step was cut short (it failed so once in CI).
        const report = await faultInjection({
          kills: 3,
          store: 'lmdb',
          target: 'temporal',
          temporalServer: server!,
          seed: 11,
          aimAt: ['extract', 'storeLists', 'activate'],
          aimWithinMs: 0,
        });
        expectSound(report);
        // The history is the proof that kills cut steps short: retried after a heartbeat timeout.
        expect(report.retriedSteps).toBeGreaterThan(0);
      },
      600_000,
    );
  });
});
