/**
 * Creates an API key for the product backend, scoped to tenants, and stores only its hash.
 *   osusume api-key --id backend [--tenant ID]... [--all-tenants]
 * The key is printed once; keep it in your secret manager.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateKey, hashKey, type ApiKeyEntry } from '../api/auth.js';
import { loadConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';

/** Adds a new key for `tenants` to the key file; returns the key (the file holds only its hash). */
export function addApiKey(file: string, id: string, tenants: string[]): string {
  const entries: ApiKeyEntry[] = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
  if (entries.some((e) => e.id === id))
    throw new ConfigError(
      `A key with id "${id}" exists in ${file}; pick another id or remove it first.`,
    );
  const key = generateKey();
  entries.push({ id, sha256: hashKey(key), tenants });
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(entries, null, 2) + '\n', { mode: 0o600 });
  return key;
}

export interface ApiKeyCommandOptions {
  id: string;
  tenant?: string[];
  allTenants?: boolean;
}

export function apiKeyCommand(options: ApiKeyCommandOptions): void {
  const tenants = options.allTenants ? ['*'] : (options.tenant ?? []);
  if (tenants.length === 0)
    throw new ConfigError('Scope the key: --tenant ID (repeatable) or --all-tenants.');
  const file = loadConfig().api.keysFile;
  const key = addApiKey(file, options.id, tenants);
  console.log(
    `API key "${options.id}" for ${tenants.join(', ')} (stored hashed in ${file}):\n${key}`,
  );
}
