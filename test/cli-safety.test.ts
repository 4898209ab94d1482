import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Bad input to the command line stops a command before it changes anything, with one line that
 * names the file or value and says what to do. Each command runs as a real process, as a user runs
 * it, in a scratch folder holding its own default state (.osusume/).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin/osusume.js');
const work = mkdtempSync(path.join(tmpdir(), 'osusume-cli-safety-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The installed command (`npx osusume` runs this bin) with the default configuration in `cwd`. */
function osusume(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd,
        env: { ...process.env, OSUSUME_CONFIG: undefined, OSUSUME_CONFIG_YAML: undefined, ...env },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

const words = ['disk', 'quota', 'mount', 'kernel', 'network', 'socket'];
const post = (i: number) =>
  JSON.stringify({
    tenantId: 'acme',
    postId: `p${i}`,
    title: `${words[i % 6]} ${words[(i * 5) % 6]} question ${i}`,
    body: `How do I set up the ${words[i % 6]} with a ${words[(i + 1) % 6]}?`,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  });

describe('load', () => {
  it('--skipped FILE it cannot write stops it before anything is loaded, naming the file', async () => {
    const dir = mkdtempSync(path.join(work, 'load-skipped-'));
    writeFileSync(path.join(dir, 'posts.jsonl'), `${post(1)}\n{broken\n`);
    const missing = await osusume(
      ['load', '--posts', 'posts.jsonl', '--skipped', `${dir}/nonexist/d/s.jsonl`],
      dir,
    );
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe(
      `osusume load: Cannot write the --skipped file: the folder ${dir}/nonexist/d does not exist. Pass --skipped a file in a folder you can write to (nothing was changed).\n`,
    );
    const folder = await osusume(['load', '--posts', 'posts.jsonl', '--skipped', dir], dir);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toBe(
      `osusume load: Cannot write the --skipped file: ${dir} is a folder. Pass --skipped a file in a folder you can write to (nothing was changed).\n`,
    );
    expect(existsSync(path.join(dir, '.osusume'))).toBe(false);
  });

  it('--skipped naming the export it loads is refused before the export is overwritten', async () => {
    const dir = mkdtempSync(path.join(work, 'load-same-'));
    const text = `${post(1)}\n{broken\n`;
    writeFileSync(path.join(dir, 'posts.jsonl'), text);
    const same = await osusume(
      ['load', '--posts', 'posts.jsonl', '--skipped', `${dir}/posts.jsonl`],
      dir,
    );
    expect(same.code).toBe(1);
    expect(same.stderr).toBe(
      'osusume load: --skipped posts.jsonl is the posts file being loaded: pass --skipped another file (nothing was changed).\n',
    );
    expect(readFileSync(path.join(dir, 'posts.jsonl'), 'utf8')).toBe(text);
  });
});
