import type {
  HiddenResponseBody,
  OutcomeEventInput,
  OutcomeResponseBody,
  ProblemBody,
  RelatedQueryInput,
  RelatedResponseBody,
} from './schemas.js';

/**
 * The typed client for the product backend. Types come from the same schemas the API validates
 * with. Errors are thrown as OsusumeApiError carrying the RFC 9457 problem the API returned.
 */
export class OsusumeApiError extends Error {
  constructor(readonly problem: ProblemBody) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.name = 'OsusumeApiError';
  }
}

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Give up after this many milliseconds (default 1000): show the page without the list. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function createClient(options: ClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/$/, '');
  const tenantPath = (tenantId: string) => `${base}/v1/tenants/${encodeURIComponent(tenantId)}`;

  async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
    const response = await doFetch(url, {
      ...init,
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      signal: AbortSignal.timeout(options.timeoutMs ?? 1000),
    });
    const body = await response.json();
    if (!response.ok) throw new OsusumeApiError(body as ProblemBody);
    return body as T;
  }

  return {
    related(
      tenantId: string,
      postId: string,
      query: Omit<RelatedQueryInput, 'exclude'> & { exclude?: string[] },
    ): Promise<RelatedResponseBody> {
      const params = new URLSearchParams({ userId: query.userId });
      if (query.surface) params.set('surface', query.surface);
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      if (query.exclude?.length) params.set('exclude', query.exclude.join(','));
      return call(`${tenantPath(tenantId)}/posts/${encodeURIComponent(postId)}/related?${params}`);
    },
    sendEvents(tenantId: string, events: OutcomeEventInput[]): Promise<OutcomeResponseBody> {
      return call(`${tenantPath(tenantId)}/events`, {
        method: 'POST',
        body: JSON.stringify({ events }),
      });
    },
    setHidden(tenantId: string, postIds: string[], hidden = true): Promise<HiddenResponseBody> {
      return call(`${tenantPath(tenantId)}/hidden`, {
        method: 'POST',
        body: JSON.stringify({ postIds, hidden }),
      });
    },
  };
}

export type OsusumeClient = ReturnType<typeof createClient>;
