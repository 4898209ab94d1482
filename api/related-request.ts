import type { z } from '@hono/zod-openapi';
import type { Config } from '../core/config.js';
import type { RelatedRequest } from './related.js';
import { ID_MAX_LENGTH, SURFACE_PATTERN } from '../core/ids.js';
import {
  DEFAULT_SURFACE,
  LIMIT_PATTERN,
  MAX_EXCLUDE_LENGTH,
  MAX_EXCLUDED,
  MAX_LIMIT,
  RelatedParams,
  RelatedQuery,
  type ProblemBody,
} from './schemas.js';

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

/**
 * Printable ASCII without space: a subset of what an id may hold (core/ids.ts), which needs no
 * Unicode property lookups to check.
 */
const PLAIN_ID = /^[!-~]+$/;

const plainId = (value: string | undefined): value is string =>
  value !== undefined && value.length <= ID_MAX_LENGTH && PLAIN_ID.test(value);

/**
 * The common case of `parseRelatedRequest`, read without building the decoded query and without
 * zod (a fifth of the fast path's own work): path parameters as they are and the query text
 * after '?' (`userId=u1&limit=5`), when nothing in them needs decoding. It answers only what it
 * is sure of: plain ids, each known key at most once, values the schema accepts as they stand.
 * Anything else, valid or not, is undefined, and the caller asks `parseRelatedRequest`, whose
 * answer is the definition. test/related-request.test.ts checks on generated requests that
 * whenever this returns a request, `parseRelatedRequest` returns the same one.
 */
export function parsePlainRelatedRequest(
  tenantId: string,
  postId: string,
  query: string,
  limits: Pick<Config['api'], 'defaultLimit' | 'maxLimit'>,
): RelatedRequest | undefined {
  // Hono decodes '+' (a space) and percent-escapes; a plain reading has neither.
  if (!plainId(tenantId) || !plainId(postId) || /[%+#]/.test(query)) return undefined;
  let userId: string | undefined;
  let surface: string | undefined;
  let limitText: string | undefined;
  let excludeText: string | undefined;
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    const equals = query.indexOf('=', start);
    const hasValue = equals !== -1 && equals < end;
    const name = query.slice(start, hasValue ? equals : end);
    const value = hasValue ? query.slice(equals + 1, end) : '';
    start = end + 1;
    // A repeated key is an array to the schema: leave it to the full parse.
    if (name === 'userId') {
      if (userId !== undefined) return undefined;
      userId = value;
    } else if (name === 'surface') {
      if (surface !== undefined) return undefined;
      surface = value;
    } else if (name === 'limit') {
      if (limitText !== undefined) return undefined;
      limitText = value;
    } else if (name === 'exclude') {
      if (excludeText !== undefined) return undefined;
      excludeText = value;
    }
    // Other keys, and empty names, are ignored by the schema as by Hono.
  }
  if (!plainId(userId)) return undefined;
  if (surface !== undefined && !SURFACE_PATTERN.test(surface)) return undefined;
  let limit = limits.defaultLimit;
  if (limitText !== undefined) {
    if (!LIMIT_PATTERN.test(limitText)) return undefined;
    limit = Number(limitText);
    if (limit < 1 || limit > limits.maxLimit || limit > MAX_LIMIT) return undefined;
  }
  const exclude: string[] = [];
  if (excludeText) {
    if (excludeText.length > MAX_EXCLUDE_LENGTH) return undefined;
    for (const id of excludeText.split(','))
      if (id.length > 0) {
        if (!plainId(id) || exclude.length === MAX_EXCLUDED) return undefined;
        exclude.push(id);
      }
  }
  return { tenantId, postId, userId, surface: surface ?? DEFAULT_SURFACE, limit, exclude };
}
