import type { z } from '@hono/zod-openapi';
import type { Config } from '../core/config.js';
import type { RelatedRequest } from './related.js';
import { RelatedParams, RelatedQuery, type ProblemBody } from './schemas.js';

/**
 * The one definition of what a related-posts request means: its path parameters and query
 * values, decoded the way Hono decodes them, checked against the published schemas and the
 * configured limits. Both the Hono route and the server's fast path (api/fast-path.ts) call it,
 * so a change here (a new parameter, a stricter rule) applies to both.
 */
export type RelatedParse =
  | { ok: true; request: RelatedRequest }
  | { ok: false; detail: string; errors: NonNullable<ProblemBody['errors']> };

/** A schema's issues as the problem's `errors`: where (the parameter) and what is wrong. */
export function issueList(error: z.ZodError): NonNullable<ProblemBody['errors']> {
  return error.issues.map((i) => ({
    where: i.path.join('.') || '(request)',
    message: i.message,
  }));
}

export const INVALID_PARAMETERS = 'Fix the parameters listed in errors.';

/**
 * `params` are the decoded path parameters; `queries` every value of every query key, in order
 * (Hono's `c.req.queries()`). A key given once is a string, a repeated key an array, as Hono's
 * validators pass them; the schema then rejects the array. Path parameters are checked first,
 * and the query only when they are valid.
 */
export function parseRelatedRequest(
  params: { tenantId?: string; postId?: string },
  queries: Record<string, string[]>,
  limits: Pick<Config['api'], 'defaultLimit' | 'maxLimit'>,
): RelatedParse {
  const path = RelatedParams.safeParse(params);
  if (!path.success)
    return { ok: false, detail: INVALID_PARAMETERS, errors: issueList(path.error) };
  const query = RelatedQuery.safeParse(
    Object.fromEntries(
      Object.entries(queries).map(([key, values]) => [
        key,
        values.length === 1 ? values[0] : values,
      ]),
    ),
  );
  if (!query.success)
    return { ok: false, detail: INVALID_PARAMETERS, errors: issueList(query.error) };
  const limit = query.data.limit ?? limits.defaultLimit;
  if (limit > limits.maxLimit)
    return {
      ok: false,
      detail: `limit must be at most ${limits.maxLimit}.`,
      errors: [{ where: 'limit', message: `at most ${limits.maxLimit}` }],
    };
  return {
    ok: true,
    request: {
      tenantId: path.data.tenantId,
      postId: path.data.postId,
      userId: query.data.userId,
      surface: query.data.surface,
      limit,
      exclude: query.data.exclude,
    },
  };
}
