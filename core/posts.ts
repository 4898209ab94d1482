import { createHash } from 'node:crypto';
import { z } from 'zod';
import { postIdSchema, tenantIdSchema } from './ids.js';

/** The warehouse contract of DESIGN.md: what one post row must hold. */
export interface Post {
  tenantId: string;
  postId: string;
  title: string;
  body: string;
  createdAt: string; // ISO 8601
  updatedAt: string; // ISO 8601
  deleted: boolean;
  lang?: string;
}

export interface Interaction {
  tenantId: string;
  userId: string;
  postId: string;
  type: string; // view | click | like | comment | ...
  ts: string; // ISO 8601
}

/** A post as the pipeline keeps it between steps: only what embedding and ranking need. */
export interface SnapshotPost {
  postId: string;
  /** The title as it starts `text` (extract re-reads tenants whose older snapshot lacks it). */
  title: string;
  text: string;
  contentHash: string;
  createdAt: string;
  updatedAt: string;
}

const timestamp = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const d =
    v instanceof Date
      ? v
      : new Date(v.includes('T') || v.endsWith('Z') ? v : v.replace(' ', 'T') + 'Z');
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'is not a valid timestamp' });
    return z.NEVER;
  }
  return d.toISOString();
});

const text = z
  .string()
  .nullish()
  .transform((v) => v ?? '');

const postRowSchema = z.object({
  tenantId: tenantIdSchema,
  postId: postIdSchema,
  title: text,
  body: text,
  createdAt: timestamp,
  updatedAt: timestamp,
  deleted: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  lang: z
    .string()
    .max(16)
    .nullish()
    .transform((v) => v ?? undefined),
});

export const interactionRowSchema = z.object({
  tenantId: tenantIdSchema,
  userId: z.string().min(1).max(128),
  postId: postIdSchema,
  type: z.string().min(1).max(32),
  ts: timestamp,
});

/** Why a row was left out; the per-tenant summary counts each reason. */
export type SkipReason = 'malformed' | 'empty' | 'too-large' | 'duplicate-id' | 'invalid-utf8';

export interface TextLimits {
  /** Rows whose title + body exceed this many characters are skipped as too large. */
  maxPostChars: number;
  /** Longer texts are cut to this many characters before embedding (the model truncates anyway). */
  maxTextChars: number;
}

export type RowVerdict =
  { ok: true; post: Post } | { ok: false; reason: SkipReason; detail: string };

export function validatePostRow(row: unknown, limits: TextLimits): RowVerdict {
  const parsed = postRowSchema.safeParse(row);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: 'malformed',
      detail: `${issue?.path.join('.')}: ${issue?.message}`,
    };
  }
  const post = parsed.data;
  if (post.deleted) return { ok: true, post };
  if (post.title.includes('\uFFFD') || post.body.includes('\uFFFD')) {
    return { ok: false, reason: 'invalid-utf8', detail: 'title or body is not valid UTF-8' };
  }
  const size = post.title.length + post.body.length;
  if (post.title.trim() === '' && post.body.trim() === '') {
    return { ok: false, reason: 'empty', detail: 'title and body are empty' };
  }
  if (size > limits.maxPostChars) {
    return {
      ok: false,
      reason: 'too-large',
      detail: `${size} characters > ${limits.maxPostChars}`,
    };
  }
  return { ok: true, post };
}

const fold = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The text the models see: title and body, whitespace folded, cut to the configured length. */
function postText(post: Pick<Post, 'title' | 'body'>, maxChars: number): string {
  const joined = fold(`${post.title}\n${post.body}`);
  return joined.length > maxChars ? joined.slice(0, maxChars) : joined;
}

export function contentHash(textValue: string): string {
  return createHash('sha256').update(textValue).digest('base64url').slice(0, 22);
}

/** Each distinct text once, keyed by content hash, in first-seen order: exact copies are embedded and ranked once. */
export function distinctTexts(
  posts: Pick<SnapshotPost, 'contentHash' | 'text'>[],
): [string, string][] {
  return [...new Map(posts.map((p) => [p.contentHash, p.text])).entries()];
}

export function toSnapshotPost(post: Post, maxTextChars: number): SnapshotPost {
  const t = postText(post, maxTextChars);
  return {
    postId: post.postId,
    title: fold(post.title).slice(0, maxTextChars),
    text: t,
    contentHash: contentHash(t),
    createdAt: post.createdAt,
    updatedAt: post.updatedAt,
  };
}
