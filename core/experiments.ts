import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, plural } from './errors.js';
import { SURFACE_PATTERN } from './ids.js';
import { strictObject, yamlSyntaxError } from './strict.js';

/**
 * Online tests, declared in one file (experiments.yaml) that the API serves from and the batch
 * reads to know which algorithms to compute. Assignment is a pure function of (salt, userId):
 * no state, the same answer on every API instance, and raising a variant's weight only moves
 * users into that variant (weighted rendezvous hashing).
 */

/** Algorithms the batch can compute lists for. */
export const ALGORITHMS = [
  'embedding',
  'lexical',
  'fielded',
  'hybrid',
  'coengagement',
  'popular',
] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
/** The best worst ratio to the lexical baseline over every evaluation set (EVALUATION.md). */
export const DEFAULT_ALGORITHM: Algorithm = 'fielded';

/**
 * What assign() logs as the variant of a holdout user and of an interleaved list: a variant of
 * that name would be counted with them by `osusume results` (no lift, a wrong sample ratio).
 */
const LOGGED_VARIANTS = ['holdout', 'interleaved'];

const variantSchema = strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be lowercase letters, digits, - and _ (max 32)')
    .refine((name) => !LOGGED_VARIANTS.includes(name), {
      message:
        'is reserved: the logs name the holdout "holdout" and interleaved lists "interleaved"; choose another name',
    }),
  algorithm: z.enum(ALGORITHMS),
  weight: z
    .number()
    .min(0)
    .default(1)
    .describe('Relative share of users; raising it only adds users to this variant.'),
});

// A date alone, or a time without its offset, would be read in some zone: the message shows the form.
const dateTime = z.iso.datetime({
  offset: true,
  error:
    'must be a date and time with its UTC offset, such as 2026-12-01T00:00:00+09:00 or 2026-12-01T00:00:00Z',
});

const experimentSchema = strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be letters, digits, ., _ and - (max 64)'),
  description: z.string().optional(),
  salt: z
    .string()
    .min(1)
    .optional()
    .describe('Hash salt; defaults to the id. Change it to reshuffle users.'),
  tenants: z
    .array(z.string().min(1))
    .min(1)
    .default(['*'])
    .describe('Tenant ids, or ["*"] for all tenants.'),
  surface: z
    .string()
    .regex(SURFACE_PATTERN, 'must be letters, digits, - and _ (max 64): the API takes no other')
    .describe('Where the list is shown, e.g. post-footer (the related query names it).'),
  type: z.enum(['ab', 'interleaving']).default('ab'),
  start: dateTime.optional(),
  end: dateTime.optional(),
  holdout: z
    .number()
    .min(0)
    .max(0.99)
    .default(0)
    .describe('Share of users kept on the default algorithm.'),
  variants: z.array(variantSchema).min(1),
}).superRefine((e, ctx) => {
  const names = e.variants.map((v) => v.name);
  if (new Set(names).size !== names.length)
    ctx.addIssue({ code: 'custom', path: ['variants'], message: 'variant names must be unique' });
  if (e.type === 'interleaving' && e.variants.length !== 2) {
    ctx.addIssue({
      code: 'custom',
      path: ['variants'],
      message: 'an interleaving experiment has exactly two variants',
    });
  }
  // Every interleaved list mixes both variants: a weight there would be silently ignored.
  if (e.type === 'interleaving')
    e.variants.forEach((v, i) => {
      if (v.weight !== 1)
        ctx.addIssue({
          code: 'custom',
          path: ['variants', i, 'weight'],
          message:
            'has no effect in an interleaving experiment (each interleaved list mixes both variants): remove it, or use type: ab to split users between the variants',
        });
    });
  if (e.type === 'ab' && !e.variants.some((v) => v.weight > 0)) {
    ctx.addIssue({
      code: 'custom',
      path: ['variants'],
      message: 'at least one variant needs a weight above 0',
    });
  }
  if (e.start && e.end && Date.parse(e.end) <= Date.parse(e.start)) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
  }
});

export const experimentsFileSchema = strictObject({
  $schema: z.string().optional(),
  defaultAlgorithm: z.enum(ALGORITHMS).default(DEFAULT_ALGORITHM),
  experiments: z.array(experimentSchema).default([]),
}).superRefine((file, ctx) => {
  const seen = new Set<string>();
  file.experiments.forEach((e, i) => {
    if (seen.has(e.id))
      ctx.addIssue({
        code: 'custom',
        path: ['experiments', i, 'id'],
        message: `duplicate id "${e.id}"`,
      });
    seen.add(e.id);
  });
  file.experiments.forEach((e, i) => {
    const earlier = file.experiments.slice(0, i).find((other) => overlap(other, e));
    if (earlier)
      ctx.addIssue({
        code: 'custom',
        path: ['experiments', i],
        message: `overlaps "${earlier.id}": both run on surface "${e.surface}" for ${sharedTenants(earlier, e)} at the same time. Give them different surfaces or tenants, or end one before the other starts.`,
      });
  });
});

type Window = Pick<Experiment, 'start' | 'end'>;
type Scope = Pick<Experiment, 'surface' | 'tenants'>;

function sharedTenants(a: Scope, b: Scope): string {
  if (a.tenants.includes('*'))
    return b.tenants.includes('*') ? 'every tenant' : b.tenants.join(', ');
  if (b.tenants.includes('*')) return a.tenants.join(', ');
  return a.tenants.filter((t) => b.tenants.includes(t)).join(', ');
}

/** Windows that overlap from now on: experiments that both ended are history, not a conflict. */
function overlapInTime(a: Window, b: Window, now = Date.now()): boolean {
  const start = (w: Window) => Math.max(now, w.start ? Date.parse(w.start) : -Infinity);
  const end = (w: Window) => (w.end ? Date.parse(w.end) : Infinity);
  return start(a) < end(b) && start(b) < end(a);
}

/** Two experiments that would both claim some request: same surface, a shared tenant, overlapping windows. */
function overlap(a: Scope & Window, b: Scope & Window): boolean {
  return a.surface === b.surface && sharedTenants(a, b) !== '' && overlapInTime(a, b);
}

export type ExperimentsFile = z.infer<typeof experimentsFileSchema>;
export type Experiment = ExperimentsFile['experiments'][number];

/** The JSON Schema editors use for completion (referenced from experiments.yaml). */
export function experimentsJsonSchema(): object {
  return z.toJSONSchema(experimentsFileSchema, { io: 'input', target: 'draft-7' });
}

/** Error lines that name the entry: `experiments[1] ("new-model").variants[0].weight: ...`. */
function describeIssues(error: z.ZodError, raw: unknown): string[] {
  return error.issues.map((issue) => {
    let where = '';
    let node: unknown = raw;
    for (const key of issue.path) {
      node = (node as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
      where += typeof key === 'number' ? `[${key}]` : `${where ? '.' : ''}${String(key)}`;
      const id =
        (node as { id?: unknown; name?: unknown } | undefined)?.id ??
        (node as { name?: unknown } | undefined)?.name;
      if (typeof key === 'number' && typeof id === 'string') where += ` ("${id}")`;
    }
    return `${where || '(file)'}: ${issue.message}`;
  });
}

// True wherever the file is read: the API keeps the file it read last, while a batch, start-test or
// validate has no previous file to fall back on and stops.
const KEPT_BY_API = 'an API already running keeps serving the file it read before';

export function parseExperiments(text: string, source: string): ExperimentsFile {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(
      `${source} is not valid YAML or JSON: ${yamlSyntaxError(error)}; fix it there (${KEPT_BY_API}).`,
    );
  }
  const parsed = experimentsFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      `${source} is invalid:\n${describeIssues(parsed.error, raw)
        .map((l) => `  - ${l}`)
        .join('\n')}\nFix these entries; ${KEPT_BY_API}.`,
    );
  }
  return parsed.data;
}

export function loadExperiments(file: string): ExperimentsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return parseExperiments('{}', file);
  }
  return parseExperiments(text, file);
}

export function isRunning(e: Experiment, now = Date.now()): boolean {
  return (!e.start || Date.parse(e.start) <= now) && (!e.end || now < Date.parse(e.end));
}

/** An experiment past its end: the batch no longer computes its lists. */
export function hasEnded(e: Experiment, now = Date.now()): boolean {
  return e.end !== undefined && now >= Date.parse(e.end);
}

export function appliesTo(e: Experiment, tenantId: string): boolean {
  return e.tenants.includes('*') || e.tenants.includes(tenantId);
}

/** An experiment of the tenant that has not ended: the batch computes its variants' lists. */
export function isCurrentFor(e: Experiment, tenantId: string, now = Date.now()): boolean {
  return appliesTo(e, tenantId) && !hasEnded(e, now);
}

/** The experiment running for a tenant and surface at `now` (the schema allows at most one). */
export function findExperiment(
  file: ExperimentsFile,
  tenantId: string,
  surface: string,
  now = Date.now(),
): Experiment | undefined {
  return file.experiments.find(
    (e) => e.surface === surface && appliesTo(e, tenantId) && isRunning(e, now),
  );
}

/**
 * A uniform number in (0, 1) from the inputs: cyrb53, a fast 53-bit string hash with good
 * avalanche. Assignment needs spread, not secrecy, and it runs on every request.
 */
export function uniformHash(...parts: string[]): number {
  const text = parts.join('\u0000');
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return ((h2 >>> 0) * 2 ** 21 + (h1 >>> 11) + 0.5) / 2 ** 53;
}

export type Assignment = { variant: string; algorithms: string[]; holdout: boolean };

/**
 * Holdout first (its own hash), then weighted rendezvous hashing: every variant draws
 * -ln(u)/weight and the smallest wins. Raising one weight lowers only that variant's draws,
 * so users can only move into it.
 */
export function assign(e: Experiment, defaultAlgorithm: string, userId: string): Assignment {
  const salt = e.salt ?? e.id;
  if (e.holdout > 0 && uniformHash(salt, 'holdout', userId) < e.holdout) {
    return { variant: 'holdout', algorithms: [defaultAlgorithm], holdout: true };
  }
  if (e.type === 'interleaving') {
    return {
      variant: 'interleaved',
      algorithms: e.variants.map((v) => v.algorithm),
      holdout: false,
    };
  }
  let best = e.variants[0]!;
  let bestScore = Infinity;
  for (const v of e.variants) {
    if (v.weight <= 0) continue;
    const score = -Math.log(uniformHash(salt, v.name, userId)) / v.weight;
    if (score < bestScore) {
      best = v;
      bestScore = score;
    }
  }
  return { variant: best.name, algorithms: [best.algorithm], holdout: false };
}

const splits = new WeakMap<Experiment, string>();

/**
 * The split `assign` follows, as each exposure logs it: the variants' weights, the holdout and a
 * digest of the salt, e.g. `control=1,treatment=3;holdout=0.1;salt=9f3a01c2`. `osusume results`
 * checks the sample ratio under each split separately: over a range in which a weight was raised,
 * the users of the whole range are in no one split's shares. Computed once per parsed experiment.
 */
export function splitOf(e: Experiment): string {
  let split = splits.get(e);
  if (split === undefined) {
    const weights =
      e.type === 'interleaving'
        ? 'interleaved=1'
        : e.variants.map((v) => `${v.name}=${v.weight}`).join(',');
    const salt = Math.floor(uniformHash(e.salt ?? e.id) * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
    split = `${weights};holdout=${e.holdout};salt=${salt}`;
    splits.set(e, split);
  }
  return split;
}

const SPLIT =
  /^([a-z0-9_-]+=[0-9.e+-]+(?:,[a-z0-9_-]+=[0-9.e+-]+)*);holdout=([0-9.e+-]+);salt=[0-9a-f]{8}$/;

/**
 * The share of users a split gives each group, the holdout first (absent at 0), a variant of
 * weight 0 at 0; null for text that is not a split (a log line written by hand, or damaged).
 */
export function sharesOfSplit(split: string): Record<string, number> | null {
  const match = SPLIT.exec(split);
  if (!match) return null;
  const holdout = Number(match[2]);
  const weights = match[1]!.split(',').map((kv) => {
    const [name, weight] = kv.split('=');
    return [name!, Number(weight)] as const;
  });
  const total = weights.reduce((a, [, w]) => a + w, 0);
  const valid = (x: number) => Number.isFinite(x) && x >= 0;
  if (!valid(holdout) || holdout >= 1 || !weights.every(([, w]) => valid(w)) || !(total > 0))
    return null;
  const shares: Record<string, number> = {};
  if (holdout > 0) shares.holdout = holdout;
  for (const [name, weight] of weights) shares[name] = ((1 - holdout) * weight) / total;
  return shares;
}

/** Algorithms the batch must compute for a tenant: the default and every experiment's, current or future. */
export function algorithmsForTenant(
  file: ExperimentsFile,
  tenantId: string,
  now = Date.now(),
): string[] {
  const algorithms = new Set<string>([file.defaultAlgorithm]);
  for (const e of file.experiments) {
    if (isCurrentFor(e, tenantId, now)) for (const v of e.variants) algorithms.add(v.algorithm);
  }
  return [...algorithms].sort();
}

/** Algorithms an experiment serves: every variant's, and the default for its holdout. */
function experimentAlgorithms(e: Experiment, defaultAlgorithm: string): string[] {
  const algorithms = new Set<string>(e.variants.map((v) => v.algorithm));
  if (e.holdout > 0) algorithms.add(defaultAlgorithm);
  return [...algorithms].sort();
}

/**
 * What a tenant's active version lacks to serve an experiment: until nothing, the experiment is
 * not served for that tenant (every variant or none: serving some would skew the split).
 */
export function missingAlgorithms(
  e: Experiment,
  defaultAlgorithm: string,
  active: { algorithms: readonly string[] } | null,
): string[] {
  return experimentAlgorithms(e, defaultAlgorithm).filter((a) => !active?.algorithms.includes(a));
}

/** Why an experiment is not served for a tenant, as logged and printed. */
export function notReadyReason(
  missing: readonly string[],
  active: { version: string } | null,
): string {
  return active
    ? `active version ${active.version} has no ${missing.join(', ')} lists`
    : 'the tenant has no active version';
}

export interface NotReadyTenant {
  tenantId: string;
  reason: string;
  /**
   * What it serves now: nothing yet, popular lists only (what the batch gives a tenant below
   * pipeline.minPostsForEmbedding posts), or other lists.
   */
  serves: 'nothing' | 'popular' | 'lists';
}

export interface ExperimentReadiness {
  experiment: string;
  /** Tenants named (or, for "*", served) whose active version cannot serve every variant yet. */
  notReady: NotReadyTenant[];
}

/**
 * Readiness of every experiment that has not ended, per tenant it names ("*": every served
 * tenant). `npm run validate` prints it and the API logs it when the file changes.
 */
export async function experimentsReadiness(
  file: ExperimentsFile,
  store: {
    getActive(tenantId: string): Promise<{ version: string; algorithms: string[] } | null>;
    listTenants(): Promise<string[]>;
  },
  now = Date.now(),
): Promise<ExperimentReadiness[]> {
  const current = file.experiments.filter((e) => !hasEnded(e, now));
  const served = current.some((e) => e.tenants.includes('*')) ? await store.listTenants() : [];
  const actives = new Map<string, Promise<{ version: string; algorithms: string[] } | null>>();
  const activeOf = (t: string) => {
    if (!actives.has(t)) actives.set(t, store.getActive(t));
    return actives.get(t)!;
  };
  const out: ExperimentReadiness[] = [];
  for (const e of current) {
    const tenants = [
      ...new Set(e.tenants.includes('*') ? served : e.tenants.filter((t) => t !== '*')),
    ].sort();
    const notReady: NotReadyTenant[] = [];
    for (const tenantId of tenants) {
      const active = await activeOf(tenantId);
      const missing = missingAlgorithms(e, file.defaultAlgorithm, active);
      if (missing.length > 0)
        notReady.push({
          tenantId,
          reason: notReadyReason(missing, active),
          serves: !active
            ? 'nothing'
            : active.algorithms.join() === 'popular'
              ? 'popular'
              : 'lists',
        });
    }
    out.push({ experiment: e.id, notReady });
  }
  return out;
}

/** At most ten tenants, then a count, so that a warning about "*" stays one readable line. */
function listed(
  tenants: NotReadyTenant[],
  show: (t: NotReadyTenant) => string = (t) => t.tenantId,
  separator = ', ',
): string {
  const shown = tenants.slice(0, 10).map(show).join(separator);
  return tenants.length > 10 ? `${shown} and ${tenants.length - 10} more` : shown;
}

/**
 * One line per experiment with tenants that are not ready (none when all are): which, why, and
 * what serves each: start-test computes missing lists over an active version, the batch gives a
 * tenant its first one, and a tenant below pipeline.minPostsForEmbedding needs only more posts.
 */
export function readinessWarnings(readiness: ExperimentReadiness[]): string[] {
  return readiness
    .filter((r) => r.notReady.length > 0)
    .map((r) => {
      const serving = (what: NotReadyTenant['serves']) =>
        r.notReady.filter((t) => t.serves === what);
      const unserved = serving('nothing');
      const small = serving('popular');
      const computable = serving('lists');
      const why = listed(r.notReady, (t) => `${t.tenantId} (${t.reason})`, '; ');
      const actions = [
        computable.length > 0 &&
          `\`npm run start-test\` computes the missing lists of ${listed(computable)}`,
        unserved.length > 0 &&
          `\`npm run batch -- --tenant <id>\` serves a first version to ${listed(unserved)} (one the warehouse does not hold is misspelt here: \`npm run batch -- --list\` lists its tenants)`,
        small.length > 0 &&
          `${listed(small)} ${small.length === 1 ? 'serves' : 'serve'} popular lists only, being below pipeline.minPostsForEmbedding posts: their users are enrolled once they have that many (nothing to do)`,
      ].filter((a): a is string => typeof a === 'string');
      return `experiment "${r.experiment}" is not ready for ${plural(r.notReady.length, 'tenant')}, whose users get the default and are not enrolled: ${why}. ${actions.join('; ')}.`;
    });
}
