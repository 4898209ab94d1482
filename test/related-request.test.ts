/**
 * The related request's two readings (api/related-request.ts): the plain one, which the fast
 * path tries first, must never answer differently from the full parse (Hono's decoding and the
 * published zod schemas). It may give up on anything; when it answers, the full parse gives the
 * same request. Generated queries mix valid values with every edge the schema has.
 */
import fc from 'fast-check';
import { getQueryParams } from 'hono/utils/url';
import { describe, expect, it } from 'vitest';
import { parsePlainRelatedRequest, parseRelatedRequest } from '../api/related-request.js';

const LIMITS = { defaultLimit: 10, maxLimit: 20 };
const LONG_128 = 'q'.repeat(128);
const LONG_129 = 'q'.repeat(129);

const anyText = fc.string({ maxLength: 12, unit: 'binary' });
const asciiText = fc.string({
  maxLength: 12,
  unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)),
});
const id = fc.oneof(
  fc.constantFrom(
    'acme',
    'p1',
    'u7',
    'a.b',
    'x"y',
    'a/b',
    'ユ',
    '',
    ' ',
    'a b',
    LONG_128,
    LONG_129,
  ),
  asciiText,
  anyText,
);
const value = fc.oneof(
  id,
  fc.constantFrom('footer', 'default', '', '0', '1', '20', '21', '100', '0007', '1e1', '-1'),
  fc.constantFrom('x'.repeat(64), 'x'.repeat(65), 'a+b', 'a%20b', '%', 'a=b', 'a?b'),
  fc.integer({ min: -5, max: 10_050 }).map(String),
  fc.array(id, { maxLength: 4 }).map((ids) => ids.join(',')),
  fc.constantFrom(100, 101).map((n) => Array.from({ length: n }, (_, i) => `p${i}`).join(',')),
  fc.constant(`${LONG_128},${LONG_128}`.repeat(60)),
);
const key = fc.oneof(
  fc.constantFrom('userId', 'userId', 'surface', 'limit', 'exclude', 'userid', 'other', ''),
  asciiText,
);
/** key=value, a key alone, or an empty piece. */
const piece = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(key, value).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: key },
);
const anyQuery = fc.array(piece, { maxLength: 6 }).map((pieces) => pieces.join('&'));
/** A valid user among the pieces, so that the other pieces decide. */
const userQuery = fc
  .tuple(fc.array(piece, { maxLength: 4 }), fc.integer({ min: 0, max: 4 }))
  .map(([pieces, at]) => [...pieces.slice(0, at), 'userId=u1', ...pieces.slice(at)].join('&'));
const query = fc.oneof(anyQuery, userQuery);
const plainId = fc.oneof(fc.constantFrom('acme', 'p1'), id);

/** What Hono's route parses: path parameters as given, the query as c.req.queries() reads it. */
function full(tenantId: string, postId: string, text: string) {
  const queries = getQueryParams(`http://h/x?${text}`) as Record<string, string[]>;
  return parseRelatedRequest({ tenantId, postId }, queries, LIMITS);
}

describe('the plain reading of a related request', () => {
  it('answers only what the full parse answers, and the same (property-based)', () => {
    let answered = 0;
    fc.assert(
      fc.property(plainId, plainId, query, (tenantId, postId, text) => {
        const plain = parsePlainRelatedRequest(tenantId, postId, text, LIMITS);
        if (plain === undefined) return;
        answered += 1;
        const parsed = full(tenantId, postId, text);
        expect(parsed, `${tenantId} ${postId} ?${text}`).toEqual({ ok: true, request: plain });
      }),
      { numRuns: 3000 },
    );
    // The property says something only if the plain reading answered often enough.
    expect(answered).toBeGreaterThan(30);
  });

  it('answers the requests a product backend sends', () => {
    for (const text of [
      'userId=u1',
      'userId=u1&limit=5&surface=footer&exclude=p1,p2',
      'exclude=,p1,,&limit=20&userId=u-9f3a&other=1',
      `userId=${LONG_128}&exclude=${LONG_128}`,
    ])
      expect(parsePlainRelatedRequest('acme', 'p1', text, LIMITS), text).toEqual(
        (full('acme', 'p1', text) as { request: unknown }).request,
      );
  });

  it('leaves what needs decoding, repeats a key or breaks a rule to the full parse', () => {
    for (const text of [
      'userId=u+1',
      'userId=u%31',
      'userId=u1&userId=u2',
      'userId=u1&limit=0',
      'userId=u1&limit=21',
      'userId=u1&surface=',
      `userId=${LONG_129}`,
      'limit=5',
    ])
      expect(parsePlainRelatedRequest('acme', 'p1', text, LIMITS), text).toBeUndefined();
    expect(parsePlainRelatedRequest('ac me', 'p1', 'userId=u1', LIMITS)).toBeUndefined();
    expect(parsePlainRelatedRequest('acme', 'ユ', 'userId=u1', LIMITS)).toBeUndefined();
  });

  it('says what limit takes: at least 1, not the bound zod compared with', () => {
    // It said "Too small: expected number to be >=1", where limit=21 says "at most 20".
    expect(full('acme', 'p1', 'userId=u1&limit=0')).toMatchObject({
      ok: false,
      errors: [{ where: 'limit', message: 'at least 1' }],
    });
  });

  it('names a missing user id as required, not by the type zod received', () => {
    expect(full('acme', 'p1', 'limit=5')).toMatchObject({
      ok: false,
      errors: [{ where: 'userId', message: 'required' }],
    });
  });
});
