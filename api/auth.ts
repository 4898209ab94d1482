import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { BadDataError, ConfigError, errorMessage } from '../core/errors.js';

const keyIdSchema = z.string().min(1);
/**
 * API keys, stored as SHA-256 hashes only, each scoped to tenants ("*" for all). A key is shown
 * once, when `npm run api-key` creates it.
 */
const keyFileSchema = z.array(
  z.object({
    id: keyIdSchema,
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    tenants: z.array(z.string().min(1)).min(1),
  }),
);
export type ApiKeyEntry = z.infer<typeof keyFileSchema>[number];

/** A key id the key file can hold: checked before a key is written, since a bad one makes the file unreadable. */
export function checkKeyId(id: string): string {
  if (!keyIdSchema.safeParse(id).success)
    throw new BadDataError(
      `Invalid key id ${JSON.stringify(id)}: name the key after who uses it (--id backend).`,
    );
  return id;
}

/** How to get a key file this code cannot read working again (the api-key commands read it too). */
const REDO_KEYS =
  'or move the file away and create the keys again with `osusume api-key --id NAME --tenant ID` (the keys it held stop working)';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateKey(): string {
  return `osk_${randomBytes(24).toString('base64url')}`;
}

export type AuthResult =
  { ok: true; key: ApiKeyEntry } | { ok: false; status: 401 | 403; detail: string };

/** Longer presented keys are refused unhashed (a generated key has 52 characters). */
const MAX_KEY_LENGTH = 256;

export class ApiKeys {
  private readonly entries: { entry: ApiKeyEntry; digest: Buffer }[];
  /**
   * Valid keys already checked, so a key is hashed once, not per request. Only keys that match
   * an entry are kept: at most one per entry, whatever garbage is presented.
   */
  private readonly known = new Map<string, ApiKeyEntry>();

  constructor(entries: ApiKeyEntry[]) {
    this.entries = entries.map((entry) => ({ entry, digest: Buffer.from(entry.sha256, 'hex') }));
  }

  /** Compares the presented key's hash with every entry in constant time (no early exit). */
  private match(key: string): ApiKeyEntry | undefined {
    const digest = createHash('sha256').update(key).digest();
    let found: ApiKeyEntry | undefined;
    for (const { entry, digest: expected } of this.entries)
      if (timingSafeEqual(digest, expected)) found = entry;
    return found;
  }

  static fromFile(file: string): ApiKeys {
    return existsSync(file) ? ApiKeys.parse(readFileSync(file, 'utf8'), file) : new ApiKeys([]);
  }

  /** The keys of a key file's text; `file` names it in errors. */
  static parse(text: string, file: string): ApiKeys {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(
        `${file} is not a valid API key file: not JSON (${errorMessage(error)}); restore it from a backup, ${REDO_KEYS}.`,
        { cause: error },
      );
    }
    const parsed = keyFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(
        `${file} is not a valid API key file: ${issue?.path.join('.')}: ${issue?.message}; mend that entry by hand (each is {"id": a name, "sha256": the key's SHA-256 in hex, "tenants": tenant ids or "*"}), ${REDO_KEYS}.`,
      );
    }
    return new ApiKeys(parsed.data);
  }

  get size(): number {
    return this.entries.length;
  }

  list(): ApiKeyEntry[] {
    return this.entries.map(({ entry }) => entry);
  }

  authorize(authorization: string | undefined, tenantId: string): AuthResult {
    // The scheme's name is case-insensitive (RFC 9110, 11.1): "bearer" is as good as "Bearer".
    const key =
      authorization !== undefined && authorization.slice(0, 7).toLowerCase() === 'bearer '
        ? authorization.slice(7).trim()
        : undefined;
    if (!key)
      return {
        ok: false,
        status: 401,
        detail: 'Send an API key as "Authorization: Bearer <key>".',
      };
    let entry = this.known.get(key);
    if (!entry && key.length <= MAX_KEY_LENGTH) {
      entry = this.match(key);
      if (entry && this.known.size < this.entries.length) this.known.set(key, entry);
    }
    if (!entry)
      return {
        ok: false,
        status: 401,
        detail: 'This API key is not valid. Ask the osusume operator for a key.',
      };
    if (!entry.tenants.includes('*') && !entry.tenants.includes(tenantId)) {
      return {
        ok: false,
        status: 403,
        detail: `API key "${entry.id}" may not access this tenant: ask the osusume operator for a key that lists it.`,
      };
    }
    return { ok: true, key: entry };
  }
}
