/**
 * The official Firestore emulator (Google Cloud CLI), started for a test file or for
 * `osusume bench store`. It lives here, not under test/, because the benchmarks ship with the
 * command; the tests import it through test/helpers/firestore-emulator.ts, which also decides
 * whether a test run may skip without it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { BackendError } from '../core/errors.js';
import { freePort } from '../core/net.js';

export interface Emulator {
  host: string;
  projectId: string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export function emulatorAvailable(): boolean {
  return spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** On `port` when given (a test bringing the emulator back where its clients look), else a free one. */
export async function startFirestoreEmulator(
  projectId = 'osusume-test',
  port?: number,
): Promise<Emulator> {
  port ??= await freePort();
  const host = `127.0.0.1:${port}`;
  // Its own process group: stopping the gcloud wrapper alone would leave the Java emulator running.
  const child: ChildProcess = spawn(
    'gcloud',
    ['emulators', 'firestore', 'start', `--host-port=${host}`, '--quiet'],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`http://${host}/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGKILL');
      throw new BackendError(
        `The Firestore emulator (gcloud emulators firestore start) did not answer on ${host} within 60 s: run that command by hand to see why (it needs Java and the cloud-firestore-emulator component), then run this again.`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  process.env.FIRESTORE_EMULATOR_HOST = host;
  process.env.METADATA_SERVER_DETECTION = 'none';
  return {
    host,
    projectId,
    reset: async () => {
      await fetch(
        `http://${host}/emulator/v1/projects/${projectId}/databases/(default)/documents`,
        { method: 'DELETE' },
      );
    },
    stop: async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 300));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}
