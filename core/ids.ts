import { z } from 'zod';
import { BadDataError } from './errors.js';

/**
 * Tenant and post ids are untrusted: they come from the warehouse and from HTTP requests.
 * They are validated here, then only ever passed as query parameters or encoded (never
 * spliced into SQL, file paths or store keys).
 */
const ID_MAX_LENGTH = 128;
// Printable, no whitespace or control characters; '/' is allowed and encoded where a store forbids it.
const ID_PATTERN = /^[^\s\p{Cc}\p{Cf}\p{Cs}]+$/u;

/**
 * A fresh id schema. zod 4 gives each schema its methods when it is created, so code that
 * extends zod (the API's OpenAPI metadata) builds its own instance after extending it.
 */
export function makeIdSchema() {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(ID_MAX_LENGTH, `must be at most ${ID_MAX_LENGTH} characters`)
    .regex(ID_PATTERN, 'must be printable characters without spaces');
}

export const idSchema = makeIdSchema();

export const tenantIdSchema = idSchema;
export const postIdSchema = idSchema;

export function parseTenantId(value: unknown): string {
  const parsed = tenantIdSchema.safeParse(value);
  if (!parsed.success) {
    throw new BadDataError(
      `Invalid tenant id ${JSON.stringify(value)}: ${parsed.error.issues[0]?.message}. ` +
        'Tenant ids are 1-128 printable characters without spaces.',
    );
  }
  return parsed.data;
}

/** A file-name-safe, reversible encoding (base64url) for ids that name folders. */
export function encodeIdForPath(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/**
 * Firestore document ids may not contain '/', be '.' or '..', or match __.*__.
 * Percent-encoding '%', '/', '.' and '_' avoids all three and stays readable for common ids.
 */
export function encodeIdForFirestore(id: string): string {
  return id.replace(/[%/._]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function decodeIdFromFirestore(encoded: string): string {
  return encoded.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}
