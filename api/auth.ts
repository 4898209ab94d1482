import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';

/**
 * API keys, stored as SHA-256 hashes only, each scoped to tenants ("*" for all). A key is shown
 * once, when `npm run api-key` creates it.
 */
const keyFileSchema = z.array(
  z.object({
    id: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    tenants: z.array(z.string().min(1)).min(1),
  }),
);
export type ApiKeyEntry = z.infer<typeof keyFileSchema>[number];

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateKey(): string {
  return `osk_${randomBytes(24).toString('base64url')}`;
}

export type AuthResult =
  { ok: true; key: ApiKeyEntry } | { ok: false; status: 401 | 403; detail: string };

export class ApiKeys {
  private readonly byHash: Map<string, ApiKeyEntry>;
  /** Presented keys already hashed: hashing once per key, not per request. Bounded. */
  private readonly known = new Map<string, ApiKeyEntry | null>();

  constructor(entries: ApiKeyEntry[]) {
    this.byHash = new Map(entries.map((e) => [e.sha256, e]));
  }

  static fromFile(file: string): ApiKeys {
    if (!existsSync(file)) return new ApiKeys([]);
    const parsed = keyFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) {
      throw new ConfigError(
        `${file} is not a valid API key file: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
    }
    return new ApiKeys(parsed.data);
  }

  get size(): number {
    return this.byHash.size;
  }

  authorize(authorization: string | undefined, tenantId: string): AuthResult {
    const key = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
    if (!key)
      return {
        ok: false,
        status: 401,
        detail: 'Send an API key as "Authorization: Bearer <key>".',
      };
    let entry = this.known.get(key);
    if (entry === undefined) {
      entry = this.byHash.get(hashKey(key)) ?? null;
      if (this.known.size >= 10_000) this.known.clear();
      this.known.set(key, entry);
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
        detail: `API key "${entry.id}" may not access this tenant.`,
      };
    }
    return { ok: true, key: entry };
  }
}
