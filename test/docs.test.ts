import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../api/server.js';
import { haveChromium, launchChromium } from './helpers/chromium.js';
import { tempDir, testConfig } from './helpers/fixtures.js';

const tmp = tempDir();
let server: RunningServer;
let browser: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  if (!haveChromium) return;
  server = await startServer(testConfig(tmp.dir), 0);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.runIf(haveChromium)('interactive API docs at /docs', () => {
  it('renders every operation of /openapi.json from files the API serves itself', async () => {
    const page = await browser.context.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/docs`);
    await page.locator('.opblock-summary-path').first().waitFor({ timeout: 30_000 });

    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, object>;
    };
    const shown = await page.locator('.opblock-summary-path').allTextContents();
    expect(shown.map((p) => p.replace(/\u200b/g, '')).sort()).toEqual(
      Object.keys(spec.paths)
        .flatMap((p) => Object.keys(spec.paths[p]!).map(() => p))
        .sort(),
    );
    // Offline: nothing is fetched from anywhere but the API.
    expect(requested.filter((url) => !url.startsWith(server.url))).toEqual([]);
    expect(requested).toContain(`${server.url}/openapi.json`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('serves only its own assets', async () => {
    for (const name of ['package.json', '..%2Fpackage.json', 'constructor'])
      expect((await fetch(`${server.url}/docs/${name}`)).status).toBe(404);
    const css = await fetch(`${server.url}/docs/swagger-ui.css`);
    expect(css.headers.get('content-type')).toContain('text/css');
  });
});
