/**
 * /readyz on a store that stops answering: the API runs on the Firestore emulator, which is then
 * stopped under it. An emulator of its own, since stopping one shared with other tests would fail
 * them.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../api/server.js';
import {
  firestoreTestMode,
  startFirestoreEmulator,
  type Emulator,
} from './helpers/firestore-emulator.js';
import { tempDir, testConfig } from './helpers/fixtures.js';

const mode = firestoreTestMode();

if (mode === 'skip') {
  describe.skip('/readyz on Firestore (emulator not installed)', () => it('skipped'));
} else {
  const tmp = tempDir();
  let emulator: Emulator | undefined;
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.close();
    await emulator?.stop();
    tmp.cleanup();
  });

  it('answers 503 with a problem body saying where the cause is, within the startup probe’s 2 s, once the store stops answering', async () => {
    emulator = await startFirestoreEmulator();
    const config = testConfig(tmp.dir, {
      store: { kind: 'firestore', projectId: emulator.projectId, collection: 'osusume' },
    });
    server = await startServer(config, 0);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', apiKeys: 0 });

    await emulator.stop();
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk, ...rest) => {
      if (String(chunk).includes('readiness probe')) logged.push(String(chunk));
      return write(chunk, ...(rest as []));
    });
    try {
      const started = performance.now();
      const failing = await fetch(`${server.url}/readyz`);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(failing.status).toBe(503);
      expect(failing.headers.get('content-type')).toBe('application/problem+json');
      expect(await failing.json()).toEqual({
        type: 'about:blank',
        title: 'Not ready',
        status: 503,
        detail: "The store does not answer; the API's log has the cause.",
        instance: '/readyz',
      });
      expect(logged).toHaveLength(1);
      expect(JSON.parse(logged[0]!)).toMatchObject({
        severity: 'ERROR',
        message: 'readiness probe: the store does not answer',
        error: 'store read exceeded 1500 ms',
      });
    } finally {
      spy.mockRestore();
    }
    // The process itself is alive: only readiness fails.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    // Back where the client looks for it, the store makes the API ready again (and lets the
    // reads abandoned above end, which closing the client waits for).
    emulator = await startFirestoreEmulator(
      emulator.projectId,
      Number(emulator.host.split(':')[1]),
    );
    await expect
      .poll(async () => (await fetch(`${server!.url}/readyz`)).status, { timeout: 60_000 })
      .toBe(200);
  }, 150_000);
}
