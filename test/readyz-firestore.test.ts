/**
 * /readyz, and closing, on a store that stops answering: the API runs on the Firestore emulator,
 * which is then stopped under it. An emulator of its own, since stopping one shared with other
 * tests would fail them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Config } from '../core/config.js';
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
  let emulator: Emulator;
  let config: Config;
  let server: RunningServer | undefined;
  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
    config = testConfig(tmp.dir, {
      store: { kind: 'firestore', projectId: emulator.projectId, collection: 'osusume' },
    });
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.stop();
    tmp.cleanup();
  });

  /**
   * Until /readyz answers 200. A fresh emulator's first reads may outlast the probe's timeout on a
   * loaded machine.
   */
  async function becomesReady(api: RunningServer): Promise<void> {
    await expect
      .poll(async () => (await fetch(`${api.url}/readyz`)).status, { timeout: 60_000 })
      .toBe(200);
  }

  /** The lines on stderr that include `text`, written while `task` runs. */
  async function logLines(text: string, task: () => Promise<unknown>): Promise<string[]> {
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk, ...rest) => {
      if (String(chunk).includes(text)) logged.push(String(chunk));
      return write(chunk, ...(rest as []));
    });
    try {
      await task();
    } finally {
      spy.mockRestore();
    }
    return logged;
  }

  it('answers 503 with a problem body saying where the cause is, without waiting out the client’s retries, once the store stops answering', async () => {
    const api = await startServer(config, 0);
    server = api;
    await becomesReady(api);
    expect(await (await fetch(`${api.url}/readyz`)).json()).toEqual({ status: 'ready' });

    await emulator.stop();
    const logged = await logLines('readiness probe', async () => {
      // Not a timing check: the probe's own timeout is 1.5 s (api/app.ts); before it, the answer
      // came after the client's minute of retries. The bound leaves a loaded machine its slack.
      const started = performance.now();
      const failing = await fetch(`${api.url}/readyz`);
      expect(performance.now() - started).toBeLessThan(20_000);
      expect(failing.status).toBe(503);
      expect(failing.headers.get('content-type')).toBe('application/problem+json');
      expect(await failing.json()).toEqual({
        type: 'about:blank',
        title: 'Not ready',
        status: 503,
        detail: "The store does not answer; the API's log has the cause.",
        instance: '/readyz',
      });
    });
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({
      severity: 'ERROR',
      message: 'readiness probe: the store does not answer',
      error: 'store read exceeded 1500 ms',
    });
    // The process itself is alive: only readiness fails.
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);

    // Back where the client looks for it, the store makes the API ready again (and lets the
    // reads abandoned above end, so that closing does not give up on them).
    emulator = await startFirestoreEmulator(
      emulator.projectId,
      Number(emulator.host.split(':')[1]),
    );
    await becomesReady(api);
    server = undefined;
    await api.close();
  }, 150_000);

  it('closes with a warning saying what to check, not after the minute the client retries an abandoned read, when the store stops answering', async () => {
    const api = await startServer(config, 0);
    server = api;
    await becomesReady(api);
    await emulator.stop();
    // A read the probe stops waiting for, which the client goes on retrying.
    expect((await fetch(`${api.url}/readyz`)).status).toBe(503);
    server = undefined;
    let outcome: string | undefined;
    // 30 s: far above the store's bound on closing, far below the minute closing took without it.
    const logged = await logLines('did not close', async () => {
      outcome = await Promise.race([
        api.close().then(() => 'closed'),
        sleep(30_000, 'still closing', { ref: false }),
      ]);
    });
    expect(outcome).toBe('closed');
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({
      severity: 'WARN',
      message: expect.stringMatching(
        /^Firestore did not close within \d+ s: .* Check that Firestore is reachable/,
      ),
    });
  }, 120_000);
}
