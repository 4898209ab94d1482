import { z } from '@hono/zod-openapi';
import {
  ID_MAX_LENGTH,
  ID_RULE,
  idExcludedCharacters,
  idSchema,
  makeIdSchema,
  SURFACE_PATTERN,
} from '../core/ids.js';

/**
 * The API's request and response shapes: one source for validation, the OpenAPI document and
 * the typed client. Ids follow the same rules as everywhere (core/ids.ts).
 */
// zod's own rendering of the id regex keeps its /u flag and \p{...} classes, which no tool reads.
const excluded = idExcludedCharacters();
const idPattern = `^[^${excluded}]+$`;
/**
 * The rules of the related query's values, shared by its schema and by the parser's plain
 * reading (api/related-request.ts), which must accept nothing the schema turns down.
 */
export const DEFAULT_SURFACE = 'default';
export const LIMIT_PATTERN = /^[0-9]{1,4}$/;
/** The largest api.maxLimit a deployment may set (core/config.ts). */
export const MAX_LIMIT = 100;
export const MAX_EXCLUDED = 100;
export const MAX_EXCLUDE_LENGTH = 13_000;
/** Up to MAX_EXCLUDED ids separated by commas; empty pieces are ignored. */
const excludePattern = `^,*(?:[^${excluded},]{1,${ID_MAX_LENGTH}}(?:,+|$)){0,${MAX_EXCLUDED}}$`;
const id = (name: string) =>
  makeIdSchema().openapi({
    description: `${name} (${ID_RULE})`,
    example: 'p123',
    pattern: idPattern,
  });

export const RelatedParams = z.object({
  tenantId: id('Tenant id').openapi({ param: { name: 'tenantId', in: 'path' }, example: 'acme' }),
  postId: id('Post id').openapi({ param: { name: 'postId', in: 'path' }, example: 'p123' }),
});

/**
 * The related-posts query, with `maxLimit` as the maximum of `limit`. The OpenAPI document
 * publishes the deployment's api.maxLimit, so that a client (or fuzzer) reading it never sends a
 * limit the API turns down; the parser (related-request.ts) validates with RelatedQuery and then
 * checks the configured maximum itself.
 */
export const relatedQuery = (maxLimit: number) =>
  z.object({
    userId: id('Pseudonymous user id').openapi({ example: 'u-9f3a' }),
    surface: z.string().regex(SURFACE_PATTERN).default(DEFAULT_SURFACE).openapi({
      description: 'Where the list is shown; experiments target a surface.',
      example: 'post-footer',
    }),
    // Decimal digits only: Number() would also take 0x10, 0b11, 1e1 and ' 5'.
    limit: z
      .string()
      .regex(LIMIT_PATTERN, 'a whole number in decimal digits')
      .transform(Number)
      .pipe(z.number().int().min(1, 'at least 1').max(maxLimit))
      .optional()
      .openapi({
        type: 'integer',
        minimum: 1,
        maximum: maxLimit,
        description: `Items to return (default 10, at most ${maxLimit}).`,
      }),
    exclude: z
      .string()
      .max(MAX_EXCLUDE_LENGTH)
      .optional()
      .transform((v, ctx) => {
        const ids = v ? v.split(',').filter((x) => x.length > 0) : [];
        if (ids.length > MAX_EXCLUDED)
          ctx.addIssue({ code: 'custom', message: `at most ${MAX_EXCLUDED} ids` });
        for (const x of ids)
          if (!idSchema.safeParse(x).success)
            ctx.addIssue({
              code: 'custom',
              message: `invalid post id ${JSON.stringify(x).slice(0, 40)}`,
            });
        return ids;
      })
      .openapi({
        type: 'string',
        pattern: excludePattern,
        description: 'Comma-separated post ids not to show (e.g. already on screen).',
      }),
  });

export const RelatedQuery = relatedQuery(MAX_LIMIT);

const RelatedItem = z.object({
  postId: z.string(),
  rank: z.number().int().openapi({ description: '1-based position' }),
  score: z.number(),
  team: z
    .string()
    .optional()
    .openapi({ description: 'Interleaving team that contributed the item' }),
});

export const RelatedResponse = z
  .object({
    requestId: z.string().openapi({ description: 'Send it back with outcome events.' }),
    tenantId: z.string(),
    postId: z.string(),
    items: z.array(RelatedItem),
    algorithm: z.string(),
    version: z.string().nullable().openapi({ description: 'List version (batch run) served' }),
    experiment: z.string().nullable(),
    variant: z.string().nullable(),
    fallback: z
      .boolean()
      .openapi({ description: 'True when (part of) the list came from the popular fallback' }),
  })
  .openapi('RelatedResponse');

export const TenantParams = z.object({ tenantId: RelatedParams.shape.tenantId });

export const OutcomeEvent = z.object({
  eventId: id('Unique event id (re-sending it is harmless)'),
  requestId: z.string().min(1).max(64),
  postId: id('Post the event is about'),
  type: z
    .string()
    .regex(/^[a-z][a-z_-]{0,31}$/)
    .openapi({ example: 'click' }),
  ts: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'When it happened (default: when received)' }),
});

export const OutcomeBody = z
  .object({ events: z.array(OutcomeEvent).min(1).max(500) })
  .openapi('OutcomeEvents');
export const OutcomeResponse = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
});

export const HiddenBody = z.object({
  postIds: z.array(id('Post id')).min(1).max(1000),
  hidden: z.boolean().default(true),
});
export const HiddenResponse = z.object({ updated: z.number().int() });

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ where: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

/** What a client passes: `limit` as a number (it travels as decimal digits). */
export type RelatedQueryInput = Omit<z.input<typeof RelatedQuery>, 'limit'> & { limit?: number };
export type RelatedResponseBody = z.infer<typeof RelatedResponse>;
export type OutcomeEventInput = z.input<typeof OutcomeEvent>;
export type OutcomeResponseBody = z.infer<typeof OutcomeResponse>;
export type HiddenResponseBody = z.infer<typeof HiddenResponse>;
export type ProblemBody = z.infer<typeof Problem>;

/** RFC 9457 problem details; never a stack trace. */
export function problemBody(
  path: string,
  status: number,
  title: string,
  detail?: string,
  errors?: ProblemBody['errors'],
): ProblemBody {
  return { type: 'about:blank', title, status, detail, instance: path, errors };
}
