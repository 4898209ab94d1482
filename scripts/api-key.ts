/**
 * API keys for the product backend, scoped to tenants; the key file holds only their hashes.
 *   osusume api-key --id backend [--tenant ID]... [--all-tenants]   (printed once: keep it safe)
 *   osusume api-key list [--json]
 *   osusume api-key revoke --id backend
 * A running API picks up the changed file within api.reloadSeconds.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApiKeys, generateKey, hashKey, type ApiKeyEntry } from '../api/auth.js';
import { loadConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';

function readEntries(file: string): ApiKeyEntry[] {
  return existsSync(file) ? ApiKeys.fromFile(file).list() : [];
}

/** Replaces the key file at once (a reader sees the old file or the new one). */
function writeEntries(file: string, entries: ApiKeyEntry[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(entries, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/** Adds a new key for `tenants` to the key file; returns the key (the file holds only its hash). */
export function addApiKey(file: string, id: string, tenants: string[]): string {
  const entries = readEntries(file);
  if (entries.some((e) => e.id === id))
    throw new ConfigError(
      `A key with id "${id}" exists in ${file}; pick another id or revoke it first (osusume api-key revoke --id ${id}).`,
    );
  const key = generateKey();
  entries.push({ id, sha256: hashKey(key), tenants });
  writeEntries(file, entries);
  return key;
}

/** The keys of the key file, without their hashes. */
function listApiKeys(file: string): { id: string; tenants: string[] }[] {
  return readEntries(file).map(({ id, tenants }) => ({ id, tenants }));
}

/** Removes the key named `id`; the API refuses it once it has re-read the file. */
function revokeApiKey(file: string, id: string): void {
  const entries = readEntries(file);
  if (!entries.some((e) => e.id === id)) {
    const ids = entries.map((e) => e.id).join(', ') || 'none';
    throw new ConfigError(`No key with id "${id}" in ${file} (keys: ${ids}).`);
  }
  writeEntries(
    file,
    entries.filter((e) => e.id !== id),
  );
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
  const { api } = loadConfig();
  const key = addApiKey(api.keysFile, options.id, tenants);
  // A request sent at once got 401 "not valid": the API re-reads the file every reloadSeconds.
  console.log(
    `API key "${options.id}" for ${tenants.join(', ')} (stored hashed in ${api.keysFile}; a running API accepts it within api.reloadSeconds, ${api.reloadSeconds} s):\n${key}`,
  );
}

export function apiKeyListCommand(options: { json?: boolean }): void {
  const file = loadConfig().api.keysFile;
  const keys = listApiKeys(file);
  if (options.json) {
    console.log(JSON.stringify(keys));
    return;
  }
  if (keys.length === 0)
    console.log(
      `No API keys in ${file}: create one with osusume api-key --id NAME --tenant ID (or --all-tenants).`,
    );
  for (const k of keys) console.log(`${k.id}\t${k.tenants.join(', ')}`);
}

export function apiKeyRevokeCommand(options: { id: string }): void {
  const file = loadConfig().api.keysFile;
  revokeApiKey(file, options.id);
  console.log(
    `API key "${options.id}" revoked in ${file}; a running API refuses it within api.reloadSeconds.`,
  );
}
