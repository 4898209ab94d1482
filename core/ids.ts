import { z } from 'zod';
import { BadDataError } from './errors.js';

/**
 * Tenant and post ids are untrusted: they come from the warehouse and from HTTP requests.
 * They are validated here, then only ever passed as query parameters or encoded (never
 * spliced into SQL, file paths or store keys).
 */
export const ID_MAX_LENGTH = 128;
/** The rule an id follows, as messages and the API's documentation state it. */
export const ID_RULE = `1-${ID_MAX_LENGTH} printable characters without spaces`;
// Printable, no whitespace or control characters; '/' is allowed and encoded where a store forbids it.
const ID_PATTERN = /^[^\s\p{Cc}\p{Cf}\p{Cs}]+$/u;

/**
 * A fresh id schema. zod 4 gives each schema its methods when it is created, so code that
 * extends zod (the API's OpenAPI metadata) builds its own instance after extending it.
 */
export function makeIdSchema() {
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'required' : undefined) })
    .min(1, 'must not be empty')
    .max(ID_MAX_LENGTH, `must be at most ${ID_MAX_LENGTH} characters`)
    .regex(ID_PATTERN, 'must be printable characters without spaces');
}

export const idSchema = makeIdSchema();

const hex4 = (cp: number) => '\\u' + cp.toString(16).padStart(4, '0');

/**
 * The characters of the Basic Multilingual Plane that ID_PATTERN excludes, as the inside of a
 * regular-expression character class (\uXXXX ranges), computed from ID_PATTERN so that the two
 * cannot drift. For the OpenAPI document, whose patterns are ECMA-262 5.1 regular expressions (no
 * flags, so no \p{...}) that other languages' tools also read (schemathesis: Rust's and Python's
 * engines). Surrogates are left out: Rust's engine refuses them in a pattern, and a lone surrogate
 * cannot be sent as UTF-8 anyway. Beyond the BMP the API also turns down the few format
 * characters there (e.g. U+E0001), which such a pattern cannot name.
 */
export function idExcludedCharacters(): string {
  const excluded: string[] = [];
  let start = -1;
  for (let cp = 0; cp <= 0x10000; cp++) {
    const surrogate = cp >= 0xd800 && cp <= 0xdfff;
    const bad = cp < 0x10000 && !surrogate && !ID_PATTERN.test(String.fromCharCode(cp));
    if (bad && start < 0) start = cp;
    if (!bad && start >= 0) {
      excluded.push(start === cp - 1 ? hex4(start) : `${hex4(start)}-${hex4(cp - 1)}`);
      start = -1;
    }
  }
  return excluded.join('');
}

export const tenantIdSchema = idSchema;
export const postIdSchema = idSchema;

/**
 * Where a list is shown (the related query's `surface`): the API takes only these, so an
 * experiment declared on any other surface would never run.
 */
export const SURFACE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function parseTenantId(value: unknown): string {
  const parsed = tenantIdSchema.safeParse(value);
  if (!parsed.success) {
    throw new BadDataError(
      `Invalid tenant id ${JSON.stringify(value)}: ${parsed.error.issues[0]?.message}. ` +
        `Tenant ids are ${ID_RULE}.`,
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
