/**
 * The Temporal Web UI, seen: headless Chromium opens the dev server's UI after a batch ran,
 * finds the batch workflow, its tenant children, and a tenant's activities, and keeps a
 * screenshot in .osusume/test-artifacts/temporal-ui-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../scripts/temporal-dev-server.js';
import { artifactPath, haveChromium, launchChromium } from './helpers/chromium.js';
import { loadPosts, tempDir, testConfig, topicPosts } from './helpers/fixtures.js';
import { devServerOrSkip, runBatchWorkflow } from './helpers/temporal-server.js';

const server = haveChromium ? await devServerOrSkip('Temporal UI test', { ui: true }) : null;
if (!haveChromium) console.warn('SKIPPED: Temporal UI test: no /usr/bin/chromium (npm run setup).');
const RUN_ID = '2026-11-22';

describe.skipIf(server === null)('the Temporal Web UI of the dev server', () => {
  const tmp = tempDir();
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let dev: DevServer;

  beforeAll(async () => {
    dev = server!;
    const config = testConfig(tmp.dir, { temporal: { taskQueue: 'osusume-ui' } });
    await loadPosts(config, [...topicPosts('acme', 20, 1), ...topicPosts('beta', 20, 2)]);
    const report = await runBatchWorkflow(dev, config, { runId: RUN_ID });
    expect(report.succeeded).toBe(2);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.teardown();
    tmp.cleanup();
  });

  it("shows the batch workflow, its tenant children and a tenant's activities", async () => {
    // Tall enough for the event history to be in the screenshot (the UI scrolls inside a pane).
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 2400 });
    await page.goto(`${dev.uiUrl}/namespaces/default/workflows`);
    await page
      .getByRole('link', { name: `osusume-batch/${RUN_ID}` })
      .first()
      .click();
    await page.waitForURL(/osusume-batch%2F2026-11-22/);
    await expect.poll(() => page.getByText('batchWorkflow').count()).toBeGreaterThan(0);

    await page.getByText('Relationships', { exact: false }).first().click();
    const child = page.getByRole('link', { name: `osusume-tenant/${RUN_ID}/acme` }).first();
    await child.waitFor();
    await page
      .getByRole('link', { name: `osusume-tenant/${RUN_ID}/beta` })
      .first()
      .waitFor();
    await page.screenshot({ path: artifactPath('temporal-ui-batch.png'), fullPage: true });

    await child.click();
    await page.waitForURL(/osusume-tenant%2F2026-11-22%2Facme/);
    await page.getByText('Activity Task Completed').first().waitFor();
    const text = await page.locator('body').innerText();
    for (const activity of ['extract', 'popular', 'fielded', 'storeLists', 'activate']) {
      expect(text).toContain(activity);
    }
    await page.screenshot({ path: artifactPath('temporal-ui-tenant.png'), fullPage: true });
  }, 120_000);
});
