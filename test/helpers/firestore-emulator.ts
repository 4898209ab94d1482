import {
  emulatorAvailable,
  startFirestoreEmulator,
  type Emulator,
} from '../../scripts/firestore-emulator.js';

// The emulator itself lives in scripts/ (osusume bench store starts it too; test/ does not ship).
// Where the CLI is missing the tests skip and say so; in CI (CI=true) that is an error.
export { startFirestoreEmulator, type Emulator };

/** Whether this test run must use the emulator (CI) or may skip without it (a laptop). */
export function firestoreTestMode(): 'run' | 'skip' {
  if (emulatorAvailable()) return 'run';
  if (process.env.CI)
    throw new Error(
      'CI needs the Firestore emulator (gcloud emulators firestore), and gcloud is not installed.',
    );
  console.warn(
    'SKIPPED: Firestore store tests need the Firestore emulator (Google Cloud CLI), which is not installed.',
  );
  return 'skip';
}
