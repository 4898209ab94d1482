import { numberJson, type ServedItem } from '../core/store/types.js';
import type { TeamItem } from './interleave.js';
import type { RelatedResponseBody } from './schemas.js';

/**
 * The related answer and its exposure and assignment lines as JSON text, with the served items serialised once
 * for both. Each function returns exactly `JSON.stringify` of the object its comment names, in
 * the same key order (test/serving.test.ts checks this on generated values); building the text
 * directly saves the item objects and a second walk over them, about a fifth of a request's CPU.
 */

/**
 * `JSON.stringify(value)` for a string. Ids, names and UUIDs rarely need escaping, and quoting
 * them here costs a fraction of a call into V8's serializer (about 20 of them per request, 4 % of
 * its CPU in `npm run bench:api-profile`); anything JSON escapes (controls, `"`, `\\`, surrogates,
 * which it escapes when unpaired) goes to the serializer.
 */
export function text(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff))
      return JSON.stringify(value);
  }
  return `"${value}"`;
}
const textOrNull = (value: string | null): string => (value === null ? 'null' : text(value));

/** `RelatedResponseBody['items']` for these items in this order (rank = position + 1). */
export function itemsJson(items: readonly (ServedItem | TeamItem)[]): string {
  let json = '[';
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (i > 0) json += ',';
    const score = item.scoreJson ?? numberJson(item.score);
    json += `{"postId":${text(item.postId)},"rank":${i + 1},"score":${score}`;
    json += 'team' in item ? `,"team":${text(item.team)}}` : '}';
  }
  return json + ']';
}

/** A `RelatedResponseBody`, its items given as JSON. */
export function responseJson(body: Omit<RelatedResponseBody, 'items'>, items: string): string {
  return (
    `{"requestId":${text(body.requestId)},"tenantId":${text(body.tenantId)},` +
    `"postId":${text(body.postId)},"items":${items},"algorithm":${text(body.algorithm)},` +
    `"version":${textOrNull(body.version)},"experiment":${textOrNull(body.experiment)},` +
    `"variant":${textOrNull(body.variant)},"fallback":${body.fallback}}`
  );
}

/** The exposure log record: what one request was shown, under which experiment, and why. */
export interface ExposureRecord {
  requestId: string;
  tenantId: string;
  surface: string;
  userId: string;
  ts: string;
  postId: string;
  experiment: string | null;
  variant: string | null;
  /** The split the variant was drawn from (core/experiments.ts `splitOf`); null without one. */
  split: string | null;
  algorithm: string;
  version: string | null;
  latencyMs: number;
  fallback: boolean;
  notEnrolled: string | null;
  notEnrolledReason: string | null;
}

/** The exposure record with `items` (as JSON) between `version` and `latencyMs`. */
export function exposureJson(record: ExposureRecord, items: string): string {
  return (
    `{"requestId":${text(record.requestId)},"tenantId":${text(record.tenantId)},` +
    `"surface":${text(record.surface)},"userId":${text(record.userId)},"ts":${text(record.ts)},` +
    `"postId":${text(record.postId)},"experiment":${textOrNull(record.experiment)},` +
    `"variant":${textOrNull(record.variant)},"split":${textOrNull(record.split)},` +
    `"algorithm":${text(record.algorithm)},` +
    `"version":${textOrNull(record.version)},"items":${items},` +
    `"latencyMs":${numberJson(record.latencyMs)},"fallback":${record.fallback},` +
    `"notEnrolled":${textOrNull(record.notEnrolled)},` +
    `"notEnrolledReason":${textOrNull(record.notEnrolledReason)}}`
  );
}

/** The assignment log record: who met which experiment, and the variant they got. */
export interface AssignmentRecord {
  requestId: string;
  tenantId: string;
  surface: string;
  userId: string;
  ts: string;
  experiment: string;
  variant: string | null;
}

export function assignmentJson(record: AssignmentRecord): string {
  return (
    `{"requestId":${text(record.requestId)},"tenantId":${text(record.tenantId)},` +
    `"surface":${text(record.surface)},"userId":${text(record.userId)},"ts":${text(record.ts)},` +
    `"experiment":${text(record.experiment)},"variant":${textOrNull(record.variant)}}`
  );
}
