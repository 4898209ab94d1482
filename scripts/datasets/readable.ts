/**
 * Dataset items are posts, so they follow the posts' contract (core/posts.ts, core/ids.ts). An item
 * the batch skips would still have its pairs and count as a miss for every algorithm, so builders
 * write only items the batch reads, and say when a built set predates that rule.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ID_MAX_LENGTH, idSchema } from '../../core/ids.js';

/**
 * What a set's folder must say it was built by (its BUILT_BY file) to be kept: raise it when a
 * builder's output changes, so that sets built before are built again rather than scored stale.
 */
const BUILDER_VERSION = '2: items the batch reads';
const BUILT_BY = 'BUILT_BY';

export const isBuilt = (dir: string) =>
  existsSync(path.join(dir, BUILT_BY)) &&
  readFileSync(path.join(dir, BUILT_BY), 'utf8').trim() === BUILDER_VERSION;

/** Written last, once every file of the set is in place. */
export const markBuilt = (dir: string) =>
  writeFileSync(path.join(dir, BUILT_BY), `${BUILDER_VERSION}\n`);

/**
 * Text without U+FFFD. The batch reads that character as bytes lost in decoding, and skips the
 * post; in these sources the bytes were lost before the builder saw them (the mailing-list package
 * stores them decoded so), or the character is the subject (the codecs page names it).
 */
export const readableText = (text: string) => text.replace(/\uFFFD/g, '');

const HASH_CHARS = 10;

/**
 * An id the batch accepts: whitespace and control characters become '_', and an id longer than
 * ID_MAX_LENGTH keeps its start and ends in a hash of the whole (so two long ids stay two).
 */
export function readableId(id: string): string {
  if (idSchema.safeParse(id).success) return id;
  const printable = id.replace(/[\s\p{Cc}\p{Cf}\p{Cs}]+/gu, '_');
  if (printable.length <= ID_MAX_LENGTH) return printable;
  const hash = createHash('sha256').update(id).digest('base64url').slice(0, HASH_CHARS);
  return `${printable.slice(0, ID_MAX_LENGTH - HASH_CHARS - 1)}~${hash}`;
}

interface Item {
  tenant: string;
  id: string;
  title: string;
  body: string;
}
interface Pair {
  tenant: string;
  a: string;
  b: string;
}

/**
 * Items with readable ids and text, less those left empty, and pairs renamed to match, less those
 * with an end left out. Two items given the same id are an error: the builder must tell them apart.
 */
export function readableItems<T extends Item>(
  items: T[],
): { items: T[]; pairs: <P extends Pair>(pairs: P[]) => P[] } {
  const renamed = new Map<string, string>();
  const kept: T[] = [];
  const key = (tenant: string, id: string) => `${tenant}\t${id}`;
  const taken = new Set<string>();
  for (const item of items) {
    const readable = {
      ...item,
      id: readableId(item.id),
      title: readableText(item.title),
      body: readableText(item.body),
    };
    if (readable.title.trim() === '' && readable.body.trim() === '') continue;
    if (taken.has(key(item.tenant, readable.id)))
      throw new Error(
        `Two items of tenant ${item.tenant} have the id ${readable.id} once made readable: the builder must give them distinct ids.`,
      );
    taken.add(key(item.tenant, readable.id));
    renamed.set(key(item.tenant, item.id), readable.id);
    kept.push(readable);
  }
  const pairs = <P extends Pair>(list: P[]): P[] =>
    list.flatMap((p) => {
      const [a, b] = [renamed.get(key(p.tenant, p.a)), renamed.get(key(p.tenant, p.b))];
      return a && b ? [{ ...p, a, b }] : [];
    });
  return { items: kept, pairs };
}
