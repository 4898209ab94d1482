/**
 * Creates an API key for the product backend, scoped to tenants, and stores only its hash.
 *   npm run api-key -- --id backend [--tenant ID]... [--all-tenants]
 * The key is printed once; keep it in your secret manager.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateKey, hashKey, type ApiKeyEntry } from '../api/auth.js';
import { loadConfig } from '../core/config.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { parseTenantId } from '../core/ids.js';

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

function main(): void {
  const { values } = parseArgs({
    options: {
      id: { type: 'string' },
      tenant: { type: 'string', multiple: true },
      'all-tenants': { type: 'boolean', default: false },
    },
  });
  if (!values.id) throw new ConfigError('Name the key: --id backend');
  const tenants = values['all-tenants'] ? ['*'] : (values.tenant ?? []).map(parseTenantId);
  if (tenants.length === 0)
    throw new ConfigError('Scope the key: --tenant ID (repeatable) or --all-tenants.');
  const file = loadConfig().api.keysFile;
  const key = addApiKey(file, values.id, tenants);
  console.log(
    `API key "${values.id}" for ${tenants.join(', ')} (stored hashed in ${file}):\n${key}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    console.error(`api-key: ${errorMessage(error)}`);
    process.exit(1);
  }
}
