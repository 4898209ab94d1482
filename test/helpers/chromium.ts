import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium, installed by scripts/setup/chromium.sh. */
const CHROMIUM = '/usr/bin/chromium';

/** Browser tests run where Chromium is installed, and always with CI=true (then a missing one fails). */
export const haveChromium = existsSync(CHROMIUM) || process.env.CI === 'true';

/** Where browser tests keep screenshots (gitignored with the rest of .osusume/). */
const TEST_ARTIFACTS = new URL('../../.osusume/test-artifacts/', import.meta.url).pathname;

export function artifactPath(name: string): string {
  mkdirSync(TEST_ARTIFACTS, { recursive: true });
  return path.join(TEST_ARTIFACTS, name);
}

/**
 * Headless Chromium with a fresh profile, and nothing that reaches out on its own (no sync,
 * component updates, QUIC or background networking): the machines reach no other site.
 */
export async function launchChromium(): Promise<{
  context: BrowserContext;
  close: () => Promise<void>;
}> {
  const profile = mkdtempSync(path.join(tmpdir(), 'osusume-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
