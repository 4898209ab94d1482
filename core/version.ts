import { readFileSync } from 'node:fs';

/** The code version a run record names: OSUSUME_CODE_VERSION (e.g. the image's git commit) or the package version. */
export function codeVersion(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OSUSUME_CODE_VERSION) return env.OSUSUME_CODE_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `osusume@${pkg.version}`;
}
