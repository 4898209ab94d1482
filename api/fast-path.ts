import type { IncomingMessage, ServerResponse } from 'node:http';
import { getQueryParams } from 'hono/utils/url';
import { failure, RELATED_PATH, type AppDeps } from './app.js';
import { problemBody } from './schemas.js';
import { parsePlainRelatedRequest, parseRelatedRequest } from './related-request.js';
import type { RelatedRequest } from './related.js';

/**
 * The common related-posts request answered without Hono: a GET whose URL needs no decoding
 * (no percent-encoding), one valid key for the tenant, valid parameters, and a store that reads
 * synchronously with the tenant's pointer and hidden posts cached. Anything else returns false
 * untouched, and the caller hands the request to Hono, which answers it as it always did.
 *
 * Nothing is defined twice: the request is parsed by the route's own parser, authorised by the
 * same keys, answered by the same service, counted by the same metric and failures become what
 * `app.onError` makes of them. test/fast-path.test.ts sends the same requests to servers with
 * and without this path and compares status, headers, body, logs and metrics.
 */

/**
 * Request targets that @hono/node-server passes to Hono verbatim (a subset of its own test: no
 * '%', no '#', no quote, no dot segment), so that splitting the path here gives Hono's params.
 */
const PLAIN_TARGET = /^\/[!$&(-;=?-Z_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?]|$)/;
/** Hosts for which node-server keeps the target as it is, and does not answer 400. */
const PLAIN_HOST = /^[a-z0-9._-]+(?::([0-9]{1,5}))?$/;

function plainHost(host: string | undefined): boolean {
  const match = host === undefined ? null : PLAIN_HOST.exec(host);
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65535);
}

const TENANTS = '/v1/tenants/';
const POSTS = '/posts/';
const RELATED = '/related';

/**
 * Hono's path params of the related route (`/v1/tenants/:tenantId/posts/:postId/related`), or
 * undefined when the path is another route's. Found by position rather than by splitting the
 * path: no array and no strings but the two ids.
 */
function relatedParams(target: string): { tenantId: string; postId: string } | undefined {
  const query = target.indexOf('?');
  const end = query === -1 ? target.length : query;
  if (!target.startsWith(TENANTS)) return undefined;
  const tenantEnd = target.indexOf('/', TENANTS.length);
  if (tenantEnd <= TENANTS.length || tenantEnd >= end || !target.startsWith(POSTS, tenantEnd))
    return undefined;
  const postStart = tenantEnd + POSTS.length;
  const postEnd = target.indexOf('/', postStart);
  if (postEnd <= postStart || end - postEnd !== RELATED.length) return undefined;
  if (!target.startsWith(RELATED, postEnd)) return undefined;
  return {
    tenantId: target.slice(TENANTS.length, tenantEnd),
    postId: target.slice(postStart, postEnd),
  };
}

/** The request as the route's parser reads it, or undefined when it is invalid. */
function relatedRequest(
  target: string,
  params: { tenantId: string; postId: string },
  limits: AppDeps['config'],
): RelatedRequest | undefined {
  const query = target.indexOf('?');
  const plain = parsePlainRelatedRequest(
    params.tenantId,
    params.postId,
    query === -1 ? '' : target.slice(query + 1),
    limits,
  );
  if (plain) return plain;
  const parsed = parseRelatedRequest(
    params,
    getQueryParams(target) as Record<string, string[]>,
    limits,
  );
  return parsed.ok ? parsed.request : undefined;
}

/** The Authorization header as Hono reads it: undefined unless sent exactly once. */
function singleAuthorization(req: IncomingMessage): string | undefined | null {
  let seen = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') seen += 1;
  // Hono joins repeated headers with ", "; Node keeps the first. Leave those to Hono.
  return seen > 1 ? null : req.headers.authorization;
}

const JSON_TYPE = { 'Content-Type': 'application/json' };

/**
 * Written byte for byte as @hono/node-server writes Hono's responses, and the same way: for
 * `c.json(body)` with its one plain header it sets Node's own `_contentLength`, so that Node
 * writes the length after the connection headers, and hands the headers to `writeHead` (no
 * `setHeader`, whose per-response header object cost about 3 µs of a request). The problem
 * responses, whose type replaces the default one, carry their own lower-case type and length first.
 */
function writeAnswer(res: ServerResponse, status: number, body: string): void {
  if (status === 200) {
    (res as ServerResponse & { _contentLength: number | null })._contentLength =
      Buffer.byteLength(body);
    res.writeHead(200, JSON_TYPE);
  } else {
    res.writeHead(status, {
      'content-type': 'application/problem+json',
      'Content-Length': Buffer.byteLength(body),
    });
  }
  res.end(body);
}

/**
 * Answers made in this turn of the event loop, written back to back once it has handled every
 * request that arrived with them (setImmediate runs right after libuv's poll phase). Written one
 * by one between requests, each answer's socket write found the client asleep and paid to wake
 * it; written together, one wake-up serves several, and the next requests come back together
 * too. A lone request waits for nothing but the rest of its own turn. Responses on one
 * connection stay in order whatever the timing: Node queues them per socket.
 */
class AnswersThisTurn {
  private answers: [ServerResponse, number, string][] = [];

  add(res: ServerResponse, status: number, body: string): void {
    if (this.answers.length === 0) setImmediate(() => this.write());
    this.answers.push([res, status, body]);
  }

  private write(): void {
    const answers = this.answers;
    this.answers = [];
    for (const [res, status, body] of answers) writeAnswer(res, status, body);
  }
}

export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export function relatedFastPath(deps: AppDeps): FastPath {
  const answers = new AnswersThisTurn();
  return (req, res) => {
    const started = performance.now();
    const target = req.url;
    if (
      req.method !== 'GET' ||
      target === undefined ||
      !target.startsWith(TENANTS) ||
      !PLAIN_TARGET.test(target) ||
      DOT_SEGMENT.test(target) ||
      !plainHost(req.headers.host)
    )
      return false;
    const params = relatedParams(target);
    if (!params) return false;
    const authorization = singleAuthorization(req);
    if (authorization === null) return false;
    if (!deps.keys().authorize(authorization, params.tenantId).ok) return false;
    const request = relatedRequest(target, params, deps.config);
    if (!request) return false;
    const reads = deps.related.readsNow(params.tenantId);
    if (!reads) return false;

    // From here on the request is answered here, as Hono's route would.
    const requestId = deps.requestId();
    let status = 200;
    let variant: string | undefined;
    try {
      const answer = deps.related.relatedNow(request, requestId, reads);
      variant = answer.variant ?? 'none';
      answers.add(res, 200, answer.json);
    } catch (error) {
      const query = target.indexOf('?');
      const path = query === -1 ? target : target.slice(0, query);
      const failed = failure(error as Error, path, requestId);
      status = failed.status;
      const body = problemBody(path, status, failed.title, failed.detail);
      answers.add(res, status, JSON.stringify(body));
    }
    deps.metrics.observeRequest(RELATED_PATH, status, params.tenantId, variant, started);
    deps.metrics.fastPath.inc();
    return true;
  };
}
