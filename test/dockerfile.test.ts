/** The container build file, checked without a Docker engine (none runs here). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lintDockerfile } from '../scripts/lint-dockerfile.js';

const dockerfile = readFileSync('infra/Dockerfile', 'utf8');

describe('infra/Dockerfile', () => {
  it('passes the linter', () => {
    expect(lintDockerfile(dockerfile)).toEqual([]);
  });

  it('has an api and a worker target, each starting its entry point as a non-root user', () => {
    expect(dockerfile).toMatch(
      /FROM runtime AS api\n[\s\S]*CMD \["node", "--import", "tsx", "scripts\/cli.ts", "api"\]/,
    );
    expect(dockerfile).toMatch(
      /FROM runtime AS worker\nCMD \["node", "--import", "tsx", "scripts\/cli.ts", "worker"\]/,
    );
    expect(dockerfile).toContain('USER node');
  });

  it('copies every source folder the entry points import, and the context does not exclude them', () => {
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n');
    for (const folder of ['core', 'activities', 'workflows', 'api', 'scripts']) {
      expect(dockerfile).toContain(`COPY ${folder} ${folder}`);
      expect(ignored).not.toContain(folder);
    }
  });

  it('catches what it promises to catch', () => {
    const bad = [
      'FROM node AS only',
      'MAINTAINER someone',
      'RUN apt-get install -y curl',
      'CMD ["node", "a.js"]',
      'CMD ["node", "b.js"]',
    ].join('\n');
    const problems = lintDockerfile(bad).join('\n');
    expect(problems).toMatch(/line 2: MAINTAINER has been deprecated/);
    expect(problems).toMatch(/line 4: There can only be one CMD/);
    expect(problems).toMatch(/multi-stage build/);
    expect(problems).toMatch(/pin the base image "node"/);
    expect(problems).toMatch(/stage "only" runs as root/);
    expect(problems).toMatch(/line 3: apt-get install without --no-install-recommends/);
    expect(problems).toMatch(/line 3: remove \/var\/lib\/apt\/lists/);
  });
});
