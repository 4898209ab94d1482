import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { teamDraft } from '../api/interleave.js';
import {
  algorithmsForTenant,
  assign,
  findExperiment,
  parseExperiments,
  type Experiment,
} from '../core/experiments.js';
import { SCHEMA_FILE, schemaText } from '../scripts/validate.js';

const experiment = (over: Partial<Experiment> = {}): Experiment => ({
  id: 'e1',
  tenants: ['*'],
  surface: 'footer',
  type: 'ab',
  holdout: 0,
  variants: [
    { name: 'a', algorithm: 'popular', weight: 1 },
    { name: 'b', algorithm: 'embedding', weight: 1 },
  ],
  ...over,
});
const users = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

describe('assignment', () => {
  it('splits users by weight, the same way every time', () => {
    const e = experiment({
      variants: [
        { name: 'a', algorithm: 'popular', weight: 1 },
        { name: 'b', algorithm: 'embedding', weight: 3 },
      ],
    });
    const share =
      users.filter((u) => assign(e, 'embedding', u).variant === 'b').length / users.length;
    expect(share).toBeGreaterThan(0.73);
    expect(share).toBeLessThan(0.77);
    expect(users.slice(0, 100).map((u) => assign(e, 'embedding', u))).toEqual(
      users.slice(0, 100).map((u) => assign(e, 'embedding', u)),
    );
  });

  it('raising a variant weight only moves users into that variant', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.1, max: 10, noNaN: true }), { minLength: 2, maxLength: 5 }),
        fc.nat({ max: 4 }),
        fc.double({ min: 1.01, max: 5, noNaN: true }),
        (weights, which, factor) => {
          const i = which % weights.length;
          const variants = weights.map((w, k) => ({
            name: `v${k}`,
            algorithm: 'popular' as const,
            weight: w,
          }));
          const before = experiment({ variants });
          const after = experiment({
            variants: variants.map((v, k) => (k === i ? { ...v, weight: v.weight * factor } : v)),
          });
          for (const u of users.slice(0, 500)) {
            const from = assign(before, 'embedding', u).variant;
            const to = assign(after, 'embedding', u).variant;
            if (from !== to) expect(to).toBe(`v${i}`);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps a holdout share on the default algorithm, independently of the split', () => {
    const e = experiment({ holdout: 0.1 });
    const held = users.filter((u) => assign(e, 'embedding', u).holdout);
    expect(held.length / users.length).toBeGreaterThan(0.09);
    expect(held.length / users.length).toBeLessThan(0.11);
    expect(assign(e, 'embedding', held[0]!)).toEqual({
      variant: 'holdout',
      algorithms: ['embedding'],
      holdout: true,
    });
  });

  it('finds the running experiment for a tenant and surface; the batch sees every algorithm it needs', () => {
    const file = parseExperiments(
      `defaultAlgorithm: embedding
experiments:
  - { id: old, surface: footer, end: 2020-01-01T00:00:00Z, variants: [{ name: a, algorithm: popular }] }
  - { id: only-acme, surface: footer, tenants: [acme], variants: [{ name: a, algorithm: popular }] }
`,
      'test',
    );
    expect(findExperiment(file, 'acme', 'footer')?.id).toBe('only-acme');
    expect(findExperiment(file, 'beta', 'footer')).toBeUndefined();
    expect(findExperiment(file, 'acme', 'sidebar')).toBeUndefined();
    expect(algorithmsForTenant(file, 'acme')).toEqual(['embedding', 'popular']);
    expect(algorithmsForTenant(file, 'beta')).toEqual(['embedding']);
  });

  it('the published JSON Schema matches the code (run npm run validate -- --write-schema after a change)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText());
  });

  it('the shipped experiments.yaml is valid', () => {
    expect(() =>
      parseExperiments(
        readFileSync(new URL('../experiments.yaml', import.meta.url), 'utf8'),
        'experiments.yaml',
      ),
    ).not.toThrow();
  });
});

describe('team-draft interleaving', () => {
  const items = (...ids: string[]) => ids.map((postId, i) => ({ postId, score: 1 - i / 10 }));
  it('alternates fairly, skips items already shown, and is reproducible per request', () => {
    const a = { team: 'A', items: items('x', 'y', 'z', 'w') };
    const b = { team: 'B', items: items('y', 'q', 'r', 's') };
    const out = teamDraft(a, b, 6, 'req-1');
    expect(new Set(out.map((i) => i.postId)).size).toBe(6);
    const counts = {
      A: out.filter((i) => i.team === 'A').length,
      B: out.filter((i) => i.team === 'B').length,
    };
    expect(Math.abs(counts.A - counts.B)).toBeLessThanOrEqual(1);
    expect(teamDraft(a, b, 6, 'req-1')).toEqual(out);
    expect(teamDraft(a, { team: 'B', items: [] }, 3, 'r').map((i) => i.team)).toEqual([
      'A',
      'A',
      'A',
    ]);
  });
});
