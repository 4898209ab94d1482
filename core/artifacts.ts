import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';
import { encodeIdForPath } from './ids.js';

/**
 * Where steps leave large data (snapshots, embeddings, lists) for the next step: activities pass
 * these URIs, never the data, so Temporal payloads stay small. Locally a folder; the same
 * interface fits a GCS bucket.
 */
export interface ArtifactStore {
  /** A URI for a path made of safe segments (use `tenantFolder` for ids). */
  uri(...segments: string[]): string;
  /** Writes atomically: readers see the old content or the new, never a torn file. */
  write(uri: string, data: Uint8Array | string): Promise<void>;
  read(uri: string): Promise<Buffer>;
  exists(uri: string): Promise<boolean>;
  /** URIs of the files directly inside a folder URI, sorted; empty when it does not exist. */
  list(folderUri: string): Promise<string[]>;
  remove(uri: string): Promise<void>;
}

const SAFE_SEGMENT = /^[A-Za-z0-9_.=-]+$/;

export function tenantFolder(tenantId: string): string {
  return `t-${encodeIdForPath(tenantId)}`;
}

export class LocalArtifactStore implements ArtifactStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  uri(...segments: string[]): string {
    for (const s of segments) {
      if (!SAFE_SEGMENT.test(s) || s === '.' || s === '..') {
        throw new Error(`Unsafe artifact path segment ${JSON.stringify(s)}`);
      }
    }
    return pathToFileURL(path.join(this.root, ...segments)).href;
  }

  private pathOf(uri: string): string {
    if (!uri.startsWith('file://')) {
      throw new ConfigError(
        `Artifact URI ${uri} is not a file:// URI; this worker uses a local artifact folder.`,
      );
    }
    const p = path.resolve(fileURLToPath(uri));
    if (p !== this.root && !p.startsWith(this.root + path.sep)) {
      throw new ConfigError(`Artifact URI ${uri} is outside the artifact folder ${this.root}.`);
    }
    return p;
  }

  async write(uri: string, data: Uint8Array | string): Promise<void> {
    const p = this.pathOf(uri);
    await mkdir(path.dirname(p), { recursive: true });
    const tmp = `${p}.tmp-${process.pid}-${Date.now()}`;
    await writeFile(tmp, data);
    await rename(tmp, p);
  }

  async read(uri: string): Promise<Buffer> {
    return readFile(this.pathOf(uri));
  }

  async exists(uri: string): Promise<boolean> {
    try {
      await stat(this.pathOf(uri));
      return true;
    } catch {
      return false;
    }
  }

  async list(folderUri: string): Promise<string[]> {
    const dir = this.pathOf(folderUri);
    try {
      const names = (await readdir(dir)).filter((n) => !n.includes('.tmp-')).sort();
      return names.map((n) => pathToFileURL(path.join(dir, n)).href);
    } catch {
      return [];
    }
  }

  async remove(uri: string): Promise<void> {
    await rm(this.pathOf(uri), { recursive: true, force: true });
  }
}

export async function readJson<T>(store: ArtifactStore, uri: string): Promise<T> {
  return JSON.parse((await store.read(uri)).toString('utf8')) as T;
}

export async function writeJson(store: ArtifactStore, uri: string, value: unknown): Promise<void> {
  await store.write(uri, JSON.stringify(value));
}

export async function readJsonLines<T>(store: ArtifactStore, uri: string): Promise<T[]> {
  const text = (await store.read(uri)).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

export async function writeJsonLines(
  store: ArtifactStore,
  uri: string,
  rows: Iterable<unknown>,
): Promise<void> {
  const lines: string[] = [];
  for (const r of rows) lines.push(JSON.stringify(r));
  await store.write(uri, lines.join('\n') + '\n');
}
