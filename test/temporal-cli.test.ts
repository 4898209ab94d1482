/**
 * `osusume worker` as a user runs it, against a real Temporal dev server
 * (scripts/temporal-dev-server.ts): a worker whose model.dir is not there refuses to start, as
 * the local batch does.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/fixtures.js';
import { devServerOrSkip, rawWorkerConfig, spawnWorker } from './helpers/temporal-server.js';

const server = await devServerOrSkip('osusume temporal and osusume worker on a dev server');
const tmp = tempDir('osusume-temporal-cli-');
const taskQueue = 'osusume-temporal-cli';
const raw = rawWorkerConfig(tmp.dir, taskQueue);

afterAll(async () => {
  await server?.teardown();
  tmp.cleanup();
});

describe('osusume worker', () => {
  it('refuses to start with a model.dir that is not there, as the local batch does', async () => {
    if (!server) return;
    const typo = path.join(tmp.dir, 'models/e5-smal');
    const worker = spawnWorker(server, { ...raw, model: { dir: typo } });
    try {
      // A worker that took the folder for "per-tenant models" would poll until killed.
      const polling = new Promise((resolve) => setTimeout(() => resolve('still polling'), 30_000));
      expect(await Promise.race([worker.exited, polling])).toBe(1);
      expect(worker.output()).toContain(
        `osusume worker: model.dir resolves to ${typo}, which does not exist. The folder must hold the model files`,
      );
      expect(worker.output()).toContain('or remove model.dir from the configuration');
    } finally {
      worker.child.kill('SIGKILL');
    }
  }, 60_000);
});
