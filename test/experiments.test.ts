import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { teamDraft } from '../api/interleave.js';
import {
  algorithmsForTenant,
  assign,
  experimentsReadiness,
  findExperiment,
  parseExperiments,
  readinessWarnings,
  type Experiment,
} from '../core/experiments.js';
import { parseConfig } from '../core/config.js';
import { nearestKey } from '../core/strict.js';
import {
  CONFIG_SCHEMA_FILE,
  SCHEMA_FILE,
  configSchemaText,
  schemaText,
} from '../scripts/validate.js';

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

  it('the published JSON Schemas match the code (run npm run validate -- --write-schema after a change)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText());
    expect(readFileSync(CONFIG_SCHEMA_FILE, 'utf8')).toBe(configSchemaText());
    // Every object of both files rejects unknown keys, as the loaders do.
    const objects = (node: unknown): Record<string, unknown>[] =>
      node && typeof node === 'object'
        ? [
            ...((node as { type?: unknown }).type === 'object'
              ? [node as Record<string, unknown>]
              : []),
            ...Object.values(node).flatMap(objects),
          ]
        : [];
    for (const text of [schemaText(), configSchemaText()]) {
      const found = objects(JSON.parse(text));
      expect(found.length).toBeGreaterThan(2);
      for (const o of found) expect(o.additionalProperties).toBe(false);
    }
  });

  it('names a YAML syntax error in one line, where it is and what to do', () => {
    expect(() => parseExperiments('a: 1\na: 2\n', 'experiments.yaml')).toThrow(
      /^experiments\.yaml is not valid YAML or JSON: Map keys must be unique at line 2, column 1; fix it there \(an API already running keeps serving the file it read before\)\.$/,
    );
  });

  it('rejects unknown keys anywhere, naming the key and the nearest valid one', () => {
    const parse = () =>
      parseExperiments(
        `defaultAlgoritm: fielded
experiments:
  - id: typo
    surface: footer
    tenant: [acme]
    holdot: 0.1
    variants: [{ name: a, algorithm: popular, wieght: 2 }]
`,
        'experiments.yaml',
      );
    expect(parse).toThrow(
      /\(file\): unknown key "defaultAlgoritm" \(did you mean "defaultAlgorithm"\?\)/,
    );
    expect(parse).toThrow(
      /experiments\[0\] \("typo"\): unknown key "tenant" \(did you mean "tenants"\?\); unknown key "holdot" \(did you mean "holdout"\?\)/,
    );
    expect(parse).toThrow(
      /variants\[0\] \("a"\): unknown key "wieght" \(did you mean "weight"\?\)/,
    );
    expect(() => parseConfig({ neighbors: { k: 5 } }, '/tmp', 'osusume.config.yaml')).toThrow(
      /\(root\): unknown key "neighbors" \(did you mean "neighbours"\?\)/,
    );
    expect(() =>
      parseConfig({ temporal: { schedule: { crn: '0 3 * * *' } } }, '/tmp', 'osusume.config.yaml'),
    ).toThrow(/temporal\.schedule: unknown key "crn" \(did you mean "cron"\?\)/);
    expect(() =>
      parseConfig({ store: { kind: 'lmdb', pth: 'x' } }, '/tmp', 'osusume.config.yaml'),
    ).toThrow(/store: unknown key "pth" \(did you mean "path"\?\)/);
    expect(nearestKey('Tenants', ['surface', 'tenants'])).toBe('tenants');
  });

  it('rejects running experiments that overlap on a surface and tenant, and accepts disjoint ones', () => {
    const file = (second: string) =>
      `experiments:
  - { id: first, surface: footer, tenants: [acme, beta], start: 2099-01-01T00:00:00Z, end: 2099-02-01T00:00:00Z, variants: [{ name: a, algorithm: popular }] }
  - ${second}
`;
    const v = 'variants: [{ name: a, algorithm: popular }]';
    expect(() => parseExperiments(file(`{ id: second, surface: footer, ${v} }`), 'x.yaml')).toThrow(
      /experiments\[1\] \("second"\): overlaps "first": both run on surface "footer" for acme, beta at the same time/,
    );
    expect(() =>
      parseExperiments(
        file(
          `{ id: second, surface: footer, tenants: [beta, gamma], start: 2099-01-31T00:00:00Z, ${v} }`,
        ),
        'x.yaml',
      ),
    ).toThrow(/overlaps "first": both run on surface "footer" for beta/);
    for (const disjoint of [
      `{ id: second, surface: sidebar, ${v} }`,
      `{ id: second, surface: footer, tenants: [gamma], ${v} }`,
      `{ id: second, surface: footer, start: 2099-02-01T00:00:00Z, ${v} }`,
      // Ended in 2020: history, not a conflict.
      `{ id: second, surface: footer, end: 2020-01-01T00:00:00Z, ${v} }`,
    ])
      expect(() => parseExperiments(file(disjoint), 'x.yaml')).not.toThrow();
  });

  it('rejects a variant named as the logs name the holdout or an interleaved list', () => {
    for (const [type, name] of [
      ['ab', 'holdout'],
      ['interleaving', 'interleaved'],
    ])
      expect(() =>
        parseExperiments(
          `experiments:
  - id: reserved
    surface: footer
    type: ${type}
    variants: [{ name: ${name}, algorithm: popular }, { name: b, algorithm: fielded }]
`,
          'x.yaml',
        ),
      ).toThrow(
        new RegExp(
          `experiments\\[0\\] \\("reserved"\\)\\.variants\\[0\\] \\("${name}"\\)\\.name: is reserved: .*choose another name`,
        ),
      );
  });

  it('rejects a weight on an interleaving variant, which every interleaved list would ignore', () => {
    const file = (weight: string) => `experiments:
  - id: mixed
    surface: footer
    type: interleaving
    variants: [{ name: a, algorithm: popular${weight} }, { name: b, algorithm: fielded }]
`;
    expect(() => parseExperiments(file(', weight: 3'), 'x.yaml')).toThrow(
      /experiments\[0\] \("mixed"\)\.variants\[0\] \("a"\)\.weight: has no effect in an interleaving experiment .*use type: ab/,
    );
    expect(() => parseExperiments(file(''), 'x.yaml')).not.toThrow();
  });

  it('rejects a surface the API would refuse in a request, on which the experiment could never run', () => {
    for (const surface of ['post.footer', '"post footer"', 'フッター'])
      expect(() =>
        parseExperiments(
          `experiments: [{ id: e, surface: ${surface}, variants: [{ name: a, algorithm: popular }] }]`,
          'x.yaml',
        ),
      ).toThrow(/experiments\[0\] \("e"\)\.surface: must be letters, digits, - and _ \(max 64\)/);
  });

  it('rejects a start or end without its UTC offset, showing the form it takes', () => {
    for (const start of ['2026-12-01', '2026-12-01T00:00:00', "'2026/12/01 00:00'"])
      expect(() =>
        parseExperiments(
          `experiments: [{ id: e, surface: footer, start: ${start}, variants: [{ name: a, algorithm: popular }] }]`,
          'x.yaml',
        ),
      ).toThrow(
        /experiments\[0\] \("e"\)\.start: must be a date and time with its UTC offset, such as 2026-12-01T00:00:00\+09:00/,
      );
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

describe('readiness', () => {
  const actives: Record<string, { version: string; algorithms: string[] } | null> = {
    big: { version: 'v2', algorithms: ['fielded', 'popular'] },
    small: { version: 'v2', algorithms: ['popular'] },
    ready: { version: 'v2', algorithms: ['embedding', 'fielded', 'popular'] },
    fresh: null,
  };
  const store = {
    getActive: async (tenantId: string) => actives[tenantId] ?? null,
    listTenants: async () => Object.keys(actives),
  };

  it('names each tenant an experiment cannot serve yet, why, and what to do', async () => {
    const file = { defaultAlgorithm: 'fielded' as const, experiments: [experiment()] };
    const [readiness] = await experimentsReadiness(file, store);
    expect(readiness!.notReady.map((t) => [t.tenantId, t.reason, t.serves])).toEqual([
      ['big', 'active version v2 has no embedding lists', 'lists'],
      ['fresh', 'the tenant has no active version', 'nothing'],
      ['small', 'active version v2 has no embedding lists', 'popular'],
    ]);
    const [warning] = readinessWarnings([readiness!]);
    expect(warning).toContain('is not ready for 3 tenants');
    // Each tenant is sent to what serves it: start-test needs an active version, the batch gives
    // one, and a tenant below pipeline.minPostsForEmbedding gets nothing from either.
    expect(warning).toContain('`npm run start-test` computes the missing lists of big;');
    expect(warning).toContain(
      '`npm run batch -- --tenant <id>` serves a first version to fresh (one the warehouse does not hold is misspelt here: `npm run batch -- --list` lists its tenants);',
    );
    expect(warning).toContain(
      'small serves popular lists only, being below pipeline.minPostsForEmbedding posts',
    );
    const larger = await experimentsReadiness(file, {
      ...store,
      listTenants: async () => ['big', 'ready'],
    });
    expect(readinessWarnings(larger)[0]).not.toContain('minPostsForEmbedding');
    // Many tenants ("*" over a large warehouse): the line names ten and counts the rest.
    const many = Array.from({ length: 25 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const [crowded] = await experimentsReadiness(file, {
      getActive: async () => ({ version: 'v1', algorithms: ['fielded', 'popular'] }),
      listTenants: async () => many,
    });
    const line = readinessWarnings([crowded!])[0]!;
    expect(line).toContain('t09 (active version v1 has no embedding lists) and 15 more.');
    expect(line).toContain(
      'computes the missing lists of t00, t01, t02, t03, t04, t05, t06, t07, t08, t09 and 15 more.',
    );
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
