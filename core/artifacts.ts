import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError, ConfigError } from './errors.js';
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
  /** When the file, or the newest file under the folder, was last written (ms); null if absent. */
  modifiedAt(uri: string): Promise<number | null>;
  /**
   * Removes what writes cut short by a crash left behind, last touched before `before` (ms);
   * returns how many. (A GCS upload is atomic: there it has nothing to remove.)
   */
  removePartialWrites(before: number): Promise<number>;
}

/** The last segment of an artifact URI: a run id or file name (segments are URI-safe). */
export function uriName(uri: string): string {
  return uri.slice(uri.lastIndexOf('/') + 1);
}

/** A write's temporary file: `${path}${PARTIAL}${pid}-${time}`, renamed into place when complete. */
const PARTIAL = '.tmp-';

const SAFE_SEGMENT = /^[A-Za-z0-9_.=-]+$/;

/** The longest file name that file systems (and Cloud Storage FUSE) take, in bytes. */
const MAX_NAME_BYTES = 255;

/**
 * The folder of a tenant's files. A valid id encodes to up to 683 characters (128 characters of
 * 4 UTF-8 bytes each), more than a file name takes: such an id names its folder by its hash.
 * Shorter ids keep the folder they always had.
 */
export function tenantFolder(tenantId: string): string {
  const folder = `t-${encodeIdForPath(tenantId)}`;
  return folder.length <= MAX_NAME_BYTES
    ? folder
    : `h-${createHash('sha256').update(tenantId).digest('base64url')}`;
}

/** A file of one tenant's run: a folder per run, so re-running a run overwrites only itself. */
export function runArtifact(
  artifacts: Pick<ArtifactStore, 'uri'>,
  runId: string,
  tenantId: string,
  name: string,
): string {
  return artifacts.uri('runs', runId, tenantFolder(tenantId), name);
}

/**
 * A local folder. URIs are paths relative to the folder ("runs/<run>/t-YWNtZQ/snapshot.jsonl"
 * for tenant acme), so that state and run records survive a moved or copied checkout. URIs
 * written before that were absolute file:// URIs: one outside the folder is re-rooted at its
 * first segment that exists in the folder (".../old/.osusume/artifacts/runs/..." ->
 * "<root>/runs/..."), else refused.
 */
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
    return segments.join('/');
  }

  private pathOf(uri: string): string {
    if (uri.startsWith('file://')) return this.legacyPathOf(uri);
    const segments = uri.split('/');
    if (segments.some((s) => !SAFE_SEGMENT.test(s) || s === '.' || s === '..'))
      throw new ConfigError(
        `Artifact URI ${JSON.stringify(uri)} is not a path inside the artifact folder ${this.root}.`,
      );
    return path.join(this.root, ...segments);
  }

  private legacyPathOf(uri: string): string {
    const p = path.resolve(fileURLToPath(uri));
    if (p === this.root || p.startsWith(this.root + path.sep)) return p;
    const segments = p.split(path.sep).filter(Boolean);
    const start = segments.findIndex((s) => existsSync(path.join(this.root, s)));
    if (start < 0)
      throw new ConfigError(
        `Artifact URI ${uri} is outside the artifact folder ${this.root}, and no part of it is in that folder; run the batch again (osusume batch) to rebuild it.`,
      );
    return path.join(this.root, ...segments.slice(start));
  }

  /** The URI of a path inside the folder. */
  private uriOf(p: string): string {
    return path.relative(this.root, p).split(path.sep).join('/');
  }

  async write(uri: string, data: Uint8Array | string): Promise<void> {
    const p = this.pathOf(uri);
    await mkdir(path.dirname(p), { recursive: true });
    const tmp = `${p}${PARTIAL}${process.pid}-${Date.now()}`;
    try {
      await writeFile(tmp, data);
      await rename(tmp, p);
    } catch (error) {
      // Left behind, a partial write would hold on to the space a full disk needs for a whole
      // day (pipeline.abandonedGraceHours), and every retry would leave one more.
      await rm(tmp, { force: true });
      throw new BackendError(
        `Cannot write ${uri} in the artifact folder ${this.root}: ${(error as Error).message}. Free space there (or point artifactsDir at a folder this process can write), then run again.`,
        { cause: error },
      );
    }
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
      const names = (await readdir(dir)).filter((n) => !n.includes(PARTIAL)).sort();
      return names.map((n) => this.uriOf(path.join(dir, n)));
    } catch {
      return [];
    }
  }

  async remove(uri: string): Promise<void> {
    await rm(this.pathOf(uri), { recursive: true, force: true });
  }

  async modifiedAt(uri: string): Promise<number | null> {
    return newestMtime(this.pathOf(uri));
  }

  async removePartialWrites(before: number): Promise<number> {
    let removed = 0;
    for (const entry of await readdir(this.root, { recursive: true }).catch(() => [])) {
      if (!path.basename(entry).includes(PARTIAL)) continue;
      const file = path.join(this.root, entry);
      if (((await newestMtime(file)) ?? before) >= before) continue;
      await rm(file, { force: true });
      removed += 1;
    }
    return removed;
  }
}

async function newestMtime(p: string): Promise<number | null> {
  const s = await stat(p).catch(() => null);
  if (!s) return null;
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const name of await readdir(p)) {
    newest = Math.max(newest, (await newestMtime(path.join(p, name))) ?? 0);
  }
  return newest;
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
