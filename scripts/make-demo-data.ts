/**
 * Builds the committed demo dataset from Debian's manual pages (English and Japanese):
 *   demo/posts.jsonl.gz     one post per page: title = name(section) and its one-line summary,
 *                           body = the start of DESCRIPTION. Tenant = language + section.
 *   demo/related.tsv.gz     SEE ALSO / 関連項目 links between pages of one tenant (ground truth).
 * Usage: tsx scripts/make-demo-data.ts   (needs apt-get download and dpkg-deb; Debian only)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

const PACKAGES = ['manpages', 'manpages-dev', 'manpages-ja', 'manpages-ja-dev'];
const BODY_CHARS = 600;
const SECTION_ALIASES: Record<string, 'name' | 'description' | 'seealso'> = {
  NAME: 'name',
  名前: 'name',
  DESCRIPTION: 'description',
  説明: 'description',
  'SEE ALSO': 'seealso',
  関連項目: 'seealso',
};

/** Plain text of one roff line: font escapes and special characters removed. */
function roffText(line: string): string {
  let s = line;
  const macro = /^\.(B|I|BR|RB|IR|RI|BI|IB|SM|SB)\s+(.*)$/.exec(s);
  if (macro) {
    const args = [...macro[2]!.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
    s = macro[1]!.length === 2 ? args.join('') : args.join(' ');
  } else if (s.startsWith('.') || s.startsWith("'")) {
    return '';
  }
  return s
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\\(em|\\\(en/g, '—')
    .replace(/\\\(aq/g, "'")
    .replace(/\\\(dq/g, '"')
    .replace(/\\\(.{2}/g, '')
    .replace(/\\\*(\(..|.)/g, '')
    .replace(/\\[-e]/g, (m) => (m === '\\-' ? '-' : '\\'))
    .replace(/\\[&|^%c]/g, '')
    .replace(/\\ /g, ' ')
    .trim();
}

interface Page {
  tenant: string;
  id: string;
  name: string;
  summary: string;
  description: string;
  seeAlso: string[];
}

function parsePage(source: string, tenant: string, id: string): Page | null {
  if (/^\.so\s/m.test(source.split('\n').find((l) => !l.startsWith('.\\"')) ?? '')) return null;
  const sections: Record<string, string[]> = { name: [], description: [], seealso: [] };
  let current: string | null = null;
  for (const raw of source.split('\n')) {
    if (raw.startsWith('.\\"')) continue;
    const sh = /^\.SH\s+"?([^"]+?)"?\s*$/.exec(raw);
    if (sh) {
      current = SECTION_ALIASES[sh[1]!.trim()] ?? null;
      continue;
    }
    if (
      current &&
      (current !== 'description' || sections.description!.join(' ').length < BODY_CHARS * 2)
    ) {
      const t = roffText(raw);
      if (t) sections[current]!.push(t);
    }
  }
  const nameLine = sections.name!.join(' ');
  const dash = nameLine.search(/\s[-—]\s/);
  if (dash < 0) return null;
  const seeAlso = [...sections.seealso!.join(' ').matchAll(/([\w.:+-]+)\s*\((\d)\w*\)/g)].map(
    (m) => `${m[1]}.${m[2]}`,
  );
  const description = sections.description!.join(' ').replace(/\s+/g, ' ').trim();
  return {
    tenant,
    id,
    name: nameLine.slice(0, dash).trim(),
    summary: nameLine
      .slice(dash)
      .replace(/^\s[-—]\s/, '')
      .trim(),
    description:
      description.length > BODY_CHARS
        ? description.slice(0, BODY_CHARS).replace(/\s\S*$/, '') + ' …'
        : description,
    seeAlso: [...new Set(seeAlso)],
  };
}

function main(): void {
  const work = mkdtempSync(path.join(tmpdir(), 'osusume-man-'));
  execFileSync('apt-get', ['download', ...PACKAGES], { cwd: work, stdio: 'inherit' });
  for (const deb of readdirSync(work).filter((f) => f.endsWith('.deb'))) {
    execFileSync('dpkg-deb', ['-x', deb, 'root'], { cwd: work });
  }
  const man = path.join(work, 'root/usr/share/man');
  const pages: Page[] = [];
  for (const [lang, base] of [
    ['en', man],
    ['ja', path.join(man, 'ja')],
  ] as const) {
    for (const dir of readdirSync(base)
      .filter((d) => /^man\d$/.test(d))
      .sort()) {
      for (const file of readdirSync(path.join(base, dir)).sort()) {
        const id = file.replace(/\.gz$/, '');
        const page = parsePage(
          gunzipSync(readFileSync(path.join(base, dir, file))).toString('utf8'),
          `${lang}-${dir}`,
          id,
        );
        if (page) pages.push(page);
      }
    }
  }
  const ids = new Set(pages.map((p) => `${p.tenant}/${p.id}`));
  const posts = pages.map((p, i) => {
    // Man pages carry no usable dates: spread synthetic ones over 2023, deterministically.
    const created = new Date(Date.UTC(2023, 0, 1) + ((i * 7919) % 365) * 86_400_000).toISOString();
    return JSON.stringify({
      tenantId: p.tenant,
      postId: p.id,
      title: `${p.name}(${p.id.split('.').pop()}) — ${p.summary}`,
      body: p.description,
      createdAt: created,
      updatedAt: created,
      lang: p.tenant.slice(0, 2),
    });
  });
  const pairs = new Set<string>();
  for (const p of pages) {
    for (const target of p.seeAlso) {
      if (target !== p.id && ids.has(`${p.tenant}/${target}`))
        pairs.add([p.tenant, ...[p.id, target].sort()].join('\t'));
    }
  }
  const out = path.resolve('demo');
  writeFileSync(path.join(out, 'posts.jsonl.gz'), gzipSync(posts.join('\n') + '\n', { level: 9 }));
  writeFileSync(
    path.join(out, 'related.tsv.gz'),
    gzipSync(['tenant\ta\tb', ...[...pairs].sort()].join('\n') + '\n', { level: 9 }),
  );
  copyFileSync(
    path.join(work, 'root/usr/share/doc/manpages/copyright'),
    path.join(out, 'COPYRIGHT.manpages'),
  );
  copyFileSync(
    path.join(work, 'root/usr/share/doc/manpages-ja/copyright'),
    path.join(out, 'COPYRIGHT.manpages-ja'),
  );
  const tenants = new Map<string, number>();
  for (const p of pages) tenants.set(p.tenant, (tenants.get(p.tenant) ?? 0) + 1);
  console.log(`${pages.length} pages, ${pairs.size} related pairs`);
  console.log([...tenants.entries()].map(([t, n]) => `${t}: ${n}`).join(', '));
}

main();
