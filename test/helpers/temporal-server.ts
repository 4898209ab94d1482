import {
  startDevServer,
  type DevServer,
  type DevServerOptions,
} from '../../scripts/temporal-dev-server.js';

/**
 * A Temporal dev server for a test file, or null where none can be started (no Temporal CLI:
 * `npm run setup` builds one): the tests then skip and say so. With CI=true that is an error.
 */
export async function devServerOrSkip(
  what: string,
  options: DevServerOptions = {},
): Promise<DevServer | null> {
  try {
    return await startDevServer(options);
  } catch (error) {
    if (process.env.CI) throw error;
    console.warn(`SKIPPED: ${what}: ${(error as Error).message}`);
    return null;
  }
}
