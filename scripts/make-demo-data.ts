/**
 * Builds the committed demo dataset from Debian's manual pages (English and Japanese):
 *   demo/posts.jsonl.gz     one post per page: title = name(section) and its one-line summary,
 *                           body = the start of DESCRIPTION. Tenant = language + section.
 *   demo/related.tsv.gz     SEE ALSO / 関連項目 links between pages of one tenant (ground truth).
 * Usage: tsx scripts/make-demo-data.ts   (needs apt-get download and dpkg-deb; Debian only)
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parsePage, type Page } from './datasets/man-pages.js';
import { fetchDebianPackages } from './datasets/manuals.js';

const PACKAGES = ['manpages', 'manpages-dev', 'manpages-ja', 'manpages-ja-dev'];
function main(): void {
  const root = fetchDebianPackages(PACKAGES, mkdtempSync(path.join(tmpdir(), 'osusume-man-')));
  const man = path.join(root, 'usr/share/man');
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
    path.join(root, 'usr/share/doc/manpages/copyright'),
    path.join(out, 'COPYRIGHT.manpages'),
  );
  copyFileSync(
    path.join(root, 'usr/share/doc/manpages-ja/copyright'),
    path.join(out, 'COPYRIGHT.manpages-ja'),
  );
  const tenants = new Map<string, number>();
  for (const p of pages) tenants.set(p.tenant, (tenants.get(p.tenant) ?? 0) + 1);
  console.log(`${pages.length} pages, ${pairs.size} related pairs`);
  console.log([...tenants.entries()].map(([t, n]) => `${t}: ${n}`).join(', '));
}

main();
