import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { startServer, type RunningServer } from '../api/server.js';
import { parseConfig } from '../core/config.js';
import { SECRET_KEYS, stackConfigSchema } from '../infra/config.js';
import { haveChromium, launchChromium } from './helpers/chromium.js';
import { ROOT, runOsusume } from './helpers/cli.js';
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

  it('runs under its Content-Security-Policy: nothing refused, "Try it out" reaches the API', async () => {
    const page = await browser.context.newPage();
    // Every refusal, as the page sees it (the event) and as Chromium reports it (the console).
    await page.addInitScript({
      content: `window.refused = [];
        document.addEventListener('securitypolicyviolation', (e) =>
          window.refused.push(e.effectiveDirective + ' ' + e.blockedURI));`,
    });
    const console: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) console.push(m.text());
    });
    const response = await page.goto(`${server.url}/docs`);
    const policy = response!.headers()['content-security-policy'] ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    await page.locator('.opblock-summary-path').first().waitFor({ timeout: 30_000 });

    // A key through "Authorize", then the related-posts operation sent with it: connect-src must
    // let the request through (the API answers that key 401, which the page shows; a request the
    // policy refused would show no status).
    await page.locator('.auth-wrapper .authorize').click();
    await page.locator('.modal-ux input').fill('not-a-key');
    await page.locator('.modal-ux button.authorize').click();
    await page.locator('.modal-ux button.btn-done').click();
    const related = page.locator('.opblock-get').filter({ hasText: '/related' }).first();
    await related.locator('.opblock-summary').click();
    await related.getByRole('button', { name: 'Try it out' }).click();
    await related.locator('tr[data-param-name="tenantId"] input').fill('acme');
    await related.locator('tr[data-param-name="postId"] input').fill('p1');
    await related.locator('tr[data-param-name="userId"] input').fill('u1');
    await related.getByRole('button', { name: 'Execute' }).click();
    await expect
      .poll(
        () =>
          related.locator('.live-responses-table tbody .response-col_status').first().textContent(),
        {
          timeout: 30_000,
        },
      )
      .toContain('401');
    expect(
      await related.locator('.live-responses-table tbody .response-col_description').textContent(),
    ).toContain('This API key is not valid');

    expect(await page.evaluate('window.refused')).toEqual([]);
    expect(console).toEqual([]);
    await page.close();
  });

  it('serves only its own assets', async () => {
    for (const name of ['package.json', '..%2Fpackage.json', 'constructor'])
      expect((await fetch(`${server.url}/docs/${name}`)).status).toBe(404);
    const css = await fetch(`${server.url}/docs/swagger-ui.css`);
    expect(css.headers.get('content-type')).toContain('text/css');
  });
});

/**
 * Every command line the README shows (`npm run NAME -- ARGS`, `npx osusume CMD ARGS`): the npm
 * script exists, and each option it passes is one of that command's, as the completion script
 * lists them (one process for every command path). A renamed option would leave the README
 * showing one that fails.
 */
describe('command lines of the README', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const scripts = (
    JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  /** `api-key --id x` is `api-key create --id x`: create is the group's default subcommand. */
  const DEFAULT_SUBCOMMAND: Record<string, string> = { 'api-key': 'create' };

  /** The words after the command: up to a comment, a shell operator or the end of the span. */
  const words = (args: string) =>
    args
      .split(/\s+(?:#|&&|\||;)/)[0]!
      .split(/\s+/)
      .map((w) => w.replace(/[[\]]/g, ''))
      .filter((w) => w !== '' && w !== '...');

  it('runs npm scripts that exist, with options their commands have', async () => {
    const completion = await runOsusume(['completion'], { cwd: ROOT });
    expect(completion.code).toBe(0);
    const known = new Map(
      [...completion.stdout.matchAll(/^ {4}'([^']*)'\) words='([^']*)'/gm)].map((m) => [
        m[1]!,
        new Set(m[2]!.split(' ')),
      ]),
    );

    const problems: string[] = [];
    const lines: { shown: string; command: string[]; args: string[] }[] = [];
    for (const m of readme.matchAll(/npm run ([a-z:-]+)(?: -- ([^`\n]*))?/g)) {
      const script = scripts[m[1]!];
      if (script === undefined) problems.push(`${m[0]}: package.json has no script ${m[1]}`);
      const cli = /tsx scripts\/cli\.ts (.*)$/.exec(script ?? '');
      if (cli) lines.push({ shown: m[0], command: cli[1]!.split(' '), args: words(m[2] ?? '') });
    }
    for (const m of readme.matchAll(/npx osusume ([^`\n]*)/g))
      lines.push({ shown: m[0], command: [], args: words(m[1]!) });
    expect(lines.length).toBeGreaterThan(30);

    for (const { shown, command, args } of lines) {
      let at = command.join(' ');
      let rest = args;
      // Subcommands named first: `npm run temporal -- run-now`, `npx osusume runs --limit 3`.
      while (rest[0] && !rest[0].startsWith('-') && known.has(`${at} ${rest[0]}`.trim())) {
        at = `${at} ${rest[0]}`.trim();
        rest = rest.slice(1);
      }
      if (!rest.some((w) => known.get(at)?.has(w)) && DEFAULT_SUBCOMMAND[at])
        at = `${at} ${DEFAULT_SUBCOMMAND[at]}`;
      for (const flag of rest.filter((w) => w.startsWith('--')).map((w) => w.split('=')[0]!))
        if (!known.get(at)?.has(flag)) problems.push(`${shown}: osusume ${at} has no ${flag}`);
    }
    expect(problems).toEqual([]);
  });
});

/** README's claims that the checkout itself can check. */
describe('README', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  /**
   * The text of the section under `heading`, up to the next heading of its level or above (a `#`
   * line inside a code block is a shell comment, not a heading).
   */
  const section = (heading: string) => {
    const lines = readme.split('\n');
    const start = lines.indexOf(heading);
    expect(start, heading).toBeGreaterThan(-1);
    const level = heading.indexOf(' ');
    let fenced = false;
    let end = start + 1;
    for (; end < lines.length; end++) {
      if (lines[end]!.startsWith('```')) fenced = !fenced;
      const hashes = /^(#+) /.exec(lines[end]!)?.[1]?.length;
      if (!fenced && hashes !== undefined && hashes <= level) break;
    }
    return lines.slice(start + 1, end).join('\n');
  };

  it('names only test files that exist (its npm scripts: "command lines of the README")', () => {
    const tests = [...readme.matchAll(/test\/[\w-]+\.test\.ts/g)].map((m) => m[0]);
    expect(tests.filter((file) => !existsSync(path.join(ROOT, file)))).toEqual([]);
  });

  it('gives a valid configuration in "Configuration"', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section('## Configuration'))![1]!;
    const config = parseConfig(parseYaml(yaml), '/srv/app', 'README');
    expect(config.warehouse.kind).toBe('bigquery');
  });

  it('sets only stack configuration keys that infra/ reads in "Deploy to Google Cloud"', () => {
    const deploy = section('## Deploy to Google Cloud');
    const schema = z.toJSONSchema(stackConfigSchema, { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    const known = (key: string) => {
      const [top, nested] = key.split('.');
      if (nested === undefined) return (SECRET_KEYS as readonly string[]).includes(top!);
      return Boolean(schema.properties[top!]?.properties?.[nested]);
    };
    const keys = [...deploy.matchAll(/osusume:([\w.]+)/g)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(5);
    expect(keys.filter((key) => !known(key))).toEqual([]);
  });

  it('lists every top-level folder of the checkout in "Layout", and no other', () => {
    const listed = [...section('## Layout').matchAll(/^\| `([\w-]+)\/` +\|/gm)].map((m) => m[1]!);
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((file) => file.includes('/') && !file.startsWith('.'))
      .map((file) => file.split('/')[0]!);
    expect(listed.sort()).toEqual([...new Set(tracked)].sort());
  });
});
