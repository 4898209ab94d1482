/**
 * Builds evaluation sets from manuals that Debian ships as HTML or as man pages (free licences;
 * fetched with `apt-get download` and unpacked with `dpkg-deb -x`, never installed). Items are
 * pages or sections, ground truth the links between them (navigation and tables of contents left
 * out), or SEE ALSO for man pages:
 *   python-docs             python3.11-doc: a page per item, tenant = top-level part (library, c-api, ...)
 *   gimp-en, gimp-ja        gimp-help-en / -ja: a page per item, tenant = chapter
 *   debian-reference-en/-ja debian-reference-en / -ja: a section per item, tenant = the book
 *   developers-reference-en/-ja  developers-reference / -ja (Sphinx): the same
 *   debian-handbook         debian-handbook (Publican, English): the same
 *   maint-guide-en/-ja      maint-guide / -ja: the same
 *   securing-debian, debian-policy, debian-faq   harden-doc, debian-policy, debian-faq (English): the same
 *   postgresql-docs         postgresql-doc-15: a page per item, tenant = part (Tutorial, Reference, ...)
 *   openssl-man, git-man    libssl-doc, git-man: a man page per item, tenant = section, as the demo's
 *   osusume dataset manuals [SET ...] [--out DIR]   (default: every set, .osusume/datasets)
 * Each set is written to DIR/SET/{items.jsonl,pairs.tsv}; a set already built by this builder is kept
 * (cache).
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConfigError, plural } from '../../core/errors.js';
import { findAll, hasClass, linkOffsets, parseHtml, textOf, type Element } from './html.js';
import { parsePage, type Page } from './man-pages.js';
import { isBuilt, markBuilt, readableItems } from './readable.js';

/** Characters of body text kept per item: enough to say what a page is about, like a post. */
export const BODY_CHARS = 2000;
/** Tenants with fewer items than this are left out (too small to rank anything). */
const MIN_TENANT_ITEMS = 5;

export interface DatasetItem {
  tenant: string;
  id: string;
  title: string;
  body: string;
}

export interface Dataset {
  items: DatasetItem[];
  /** Undirected related pairs within one tenant. */
  pairs: { tenant: string; a: string; b: string }[];
  /**
   * A labelled variant: the pairs with a link inside the text an item keeps (its first BODY_CHARS
   * characters, or its title), the ones its text can show; written as pairs-visible.tsv.
   */
  visiblePairs?: Dataset['pairs'];
}

/** Unpacks Debian packages into `cache/root` (downloaded once; `apt-get update` first). */
export function fetchDebianPackages(packages: string[], cache: string): string {
  const root = path.join(cache, 'root');
  const marker = (p: string) => path.join(cache, `${p}.unpacked`);
  const missing = packages.filter((p) => !existsSync(marker(p)));
  if (missing.length === 0) return root;
  mkdirSync(root, { recursive: true });
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['download', ...missing], { cwd: cache, stdio: 'inherit' });
  } catch (error) {
    throw new ConfigError(
      `apt-get could not download ${missing.join(', ')} (${String(error)}): these datasets need Debian's archive; run 'apt-get download ${missing.join(' ')}' in ${cache} by hand, then build again.`,
    );
  }
  for (const p of missing) {
    const deb = readdirSync(cache).find((f) => f.startsWith(`${p}_`) && f.endsWith('.deb'));
    if (!deb) throw new ConfigError(`apt-get download left no ${p}_*.deb in ${cache}.`);
    execFileSync('dpkg-deb', ['-x', deb, 'root'], { cwd: cache });
    writeFileSync(marker(p), deb);
  }
  return root;
}

/** Keeps tenants with enough items, and pairs between two distinct kept items of one tenant. */
function finish(items: DatasetItem[], links: Map<string, Set<string>>): Dataset {
  const size = new Map<string, number>();
  for (const i of items) size.set(i.tenant, (size.get(i.tenant) ?? 0) + 1);
  const kept = items.filter((i) => size.get(i.tenant)! >= MIN_TENANT_ITEMS && (i.title || i.body));
  const tenantOf = new Map(kept.map((i) => [i.id, i.tenant]));
  const seen = new Set<string>();
  const pairs: Dataset['pairs'] = [];
  for (const [from, targets] of links) {
    for (const to of targets) {
      const tenant = tenantOf.get(from);
      if (from === to || !tenant || tenantOf.get(to) !== tenant) continue;
      const [a, b] = from < to ? [from, to] : [to, from];
      if (seen.has(`${a} ${b}`)) continue;
      seen.add(`${a} ${b}`);
      pairs.push({ tenant, a, b });
    }
  }
  return { items: kept, pairs };
}

/** Every link between items, and those that start inside the text an item keeps. */
interface Links {
  all: Map<string, Set<string>>;
  visible: Map<string, Set<string>>;
}
const noLinks = (): Links => ({ all: new Map(), visible: new Map() });
/** A link from item `from` to item `to` that starts at offset `at` of from's text. */
const addLink = (links: Links, from: string, to: string, at: number) => {
  for (const map of at < BODY_CHARS ? [links.all, links.visible] : [links.all]) {
    if (!map.has(from)) map.set(from, new Set());
    map.get(from)!.add(to);
  }
};

/** `finish`, with the pairs of the links inside the kept text as the labelled variant. */
function withVisiblePairs(items: DatasetItem[], links: Links): Dataset {
  return { ...finish(items, links.all), visiblePairs: finish(items, links.visible).pairs };
}

const clip = (text: string) => text.slice(0, BODY_CHARS);
/** A relative href resolved against the page that holds it, without its fragment. */
const resolveHref = (page: string, href: string) =>
  /^[a-z]+:|^\/\//i.test(href)
    ? undefined
    : path.posix.normalize(path.posix.join(path.posix.dirname(page), href.split('#')[0]!));

/**
 * python3.11-doc: a page per item; truth = internal cross-references to other pages, wherever
 * they are on the page (most are below the text an item keeps: visiblePairs).
 */
export function pythonDocs(htmlRoot: string): Dataset {
  const items: DatasetItem[] = [];
  const links = noLinks();
  const skip = (e: Element) =>
    hasClass(e, 'toctree-wrapper') || hasClass(e, 'headerlink') || e.tag === 'h1';
  for (const part of readdirSync(htmlRoot, { withFileTypes: true })) {
    if (!part.isDirectory() || part.name.startsWith('_')) continue;
    for (const file of readdirSync(path.join(htmlRoot, part.name)).sort()) {
      if (!file.endsWith('.html')) continue;
      const id = `${part.name}/${file}`;
      const doc = parseHtml(readFileSync(path.join(htmlRoot, id), 'utf8'));
      const body = findAll(doc, (e) => hasClass(e, 'body'))[0];
      if (!body) continue;
      const h1 = findAll(body, (e) => e.tag === 'h1')[0];
      const title = h1 ? textOf(h1, (e) => hasClass(e, 'headerlink')) : '';
      items.push({ tenant: part.name, id, title, body: clip(textOf(body, skip)) });
      for (const { href, at } of linkOffsets(body, skip)) {
        const target = resolveHref(id, href);
        if (target?.endsWith('.html')) addLink(links, id, target, at);
      }
    }
  }
  return withVisiblePairs(items, links);
}

/** The class that names a DocBook component (chapter, appendix, ...) on its page. */
const COMPONENT = /^(chapter|appendix|preface|glossary|bibliography|reference)$/;
const docbookNavigation = (e: Element) =>
  hasClass(e, 'navheader') ||
  hasClass(e, 'navfooter') ||
  hasClass(e, 'toc') ||
  hasClass(e, 'titlepage');

/** A DocBook book chunked a page per item, whose tenants are components found through up links. */
interface ComponentPages {
  /** The page one level up, as the page links it. */
  up: (doc: Element) => string | undefined;
  /** Whether a page whose main element has these classes is a component that names a tenant. */
  isComponent: (classes: string[]) => boolean;
  /** A page's title from its heading's text (the heading's number left out). */
  title: (heading: string) => string;
  /** The tenant of a component's pages, from the component's page name. */
  tenant: (component: string) => string;
}

/**
 * A page per item (its main element's text, navigation skipped); tenant = the nearest component
 * up from the page (the page itself included); truth = links between pages of one tenant.
 */
function componentPages(dir: string, book: ComponentPages): Dataset {
  const pages = new Map<
    string,
    {
      up?: string;
      component: boolean;
      title: string;
      body: string;
      links: { href: string; at: number }[];
    }
  >();
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.html')) continue;
    const doc = parseHtml(readFileSync(path.join(dir, file), 'utf8'));
    const main = findAll(
      doc,
      (e) => e.tag === 'div' && !docbookNavigation(e) && e.attrs.class !== undefined,
    )[0];
    if (!main) continue;
    const heading = findAll(main, (e) => /^h[1-6]$/.test(e.tag))[0];
    pages.set(file, {
      up: book.up(doc)?.split('#')[0],
      component: book.isComponent((main.attrs.class ?? '').split(/\s+/)),
      title: heading ? book.title(textOf(heading)) : '',
      body: clip(textOf(main, docbookNavigation)),
      links: linkOffsets(main, docbookNavigation),
    });
  }
  const componentOf = (file: string): string | undefined => {
    for (let f: string | undefined = file, hops = 0; f && hops < 20; f = pages.get(f)?.up, hops++)
      if (pages.get(f)?.component) return f.replace(/\.html$/, '');
    return undefined;
  };
  const items: DatasetItem[] = [];
  const links = noLinks();
  for (const [file, page] of pages) {
    const component = componentOf(file);
    if (!component) continue;
    items.push({ tenant: book.tenant(component), id: file, title: page.title, body: page.body });
    for (const { href, at } of page.links) {
      const target = resolveHref(file, href);
      if (target && pages.has(target)) addLink(links, file, target, at);
    }
  }
  return withVisiblePairs(items, links);
}

/** gimp-help-LANG: a page per item, tenant = the chapter (or appendix) the page belongs to. */
export function gimpHelp(helpDir: string, lang: string): Dataset {
  return componentPages(helpDir, {
    up: (doc) => findAll(doc, (e) => e.tag === 'link' && e.attrs.rel === 'up')[0]?.attrs.href,
    isComponent: (classes) => classes.some((c) => COMPONENT.test(c)),
    title: (heading) => heading.replace(/^(Chapter|第)?\s*[\dA-Z.]+\s*(章)?\.?\s*/, ''),
    tenant: (chapter) => `${lang}-${chapter}`,
  });
}

/**
 * postgresql-doc-15: the PostgreSQL documentation, a page per item (a section, a chapter's
 * opening, a reference page), tenant = the part the page belongs to (Tutorial, The SQL Language,
 * Reference, ...), found through the navigation's Up links; the preface, the bibliography and the
 * index belong to no part and are left out.
 */
export function postgresqlDocs(htmlDir: string): Dataset {
  return componentPages(htmlDir, {
    up: (doc) => findAll(doc, (e) => e.tag === 'a' && e.attrs.accesskey === 'u')[0]?.attrs.href,
    isComponent: (classes) => classes.includes('part'),
    // "Part VI. Reference", "Chapter 2. The SQL Language", "E.1. Release 15.20"; not "SELECT".
    title: (heading) =>
      heading.replace(/^((Part|Chapter|Appendix) )?[\dA-Z]+(\.[\dA-Z]+)*\.\s+/, ''),
    tenant: (part) => part,
  });
}

/**
 * A book cut into sections: a section per item (its own text, without its subsections); truth =
 * links from a section to an anchor inside another section; one tenant per book.
 */
interface SectionBook {
  tenant: string;
  /** The name a page's sections are keyed by (`ch01`), or undefined to leave the page out. */
  page: (file: string) => string | undefined;
  isSection: (e: Element) => boolean;
  /** Navigation and markup that is not the section's text. */
  skip: (e: Element) => boolean;
  /** The section's id, from the section or its heading. */
  id: (section: Element, heading: Element | undefined) => string | undefined;
  /** The anchor a link points at (`page.html#id`), when the book links some without a fragment. */
  anchor?: (href: string) => string;
}

/** The number a section's heading starts with (`1.1. `, `A.2. `, `6. `), left out of its title. */
const SECTION_NUMBER = /^[\dA-Z]+(\.[\dA-Z]+)*\.\s+/;

function sectionBook(dir: string, book: SectionBook): Dataset {
  const items: DatasetItem[] = [];
  const anchorOwner = new Map<string, string>();
  const sectionLinks = new Map<string, { href: string; at: number }[]>();
  for (const file of readdirSync(dir).sort()) {
    const page = book.page(file);
    if (!page) continue;
    const doc = parseHtml(readFileSync(path.join(dir, file), 'utf8'));
    for (const section of findAll(doc, book.isSection)) {
      const own = (e: Element) => (e !== section && book.isSection(e)) || book.skip(e);
      const heading = findAll(section, (e) => /^h[1-6]$/.test(e.tag), own)[0];
      const id = book.id(section, heading);
      if (!id) continue;
      const key = `${page}#${id}`;
      for (const anchor of findAll(section, (e) => e.attrs.id !== undefined, own))
        anchorOwner.set(`${file}#${anchor.attrs.id}`, key);
      items.push({
        tenant: book.tenant,
        id: key,
        title: heading ? textOf(heading, book.skip).replace(SECTION_NUMBER, '') : '',
        body: clip(textOf(section, (e) => e === heading || own(e))),
      });
      // The heading's links (a title is always kept) at 0, then the body's where they start.
      const found = [
        ...(heading ? linkOffsets(heading, own).map(({ href }) => ({ href, at: 0 })) : []),
        ...linkOffsets(section, (e) => e === heading || own(e)),
      ];
      sectionLinks.set(
        key,
        found.map(({ href, at }) => ({ href: href.startsWith('#') ? `${file}${href}` : href, at })),
      );
    }
  }
  const links = noLinks();
  for (const [from, found] of sectionLinks)
    for (const { href, at } of found) {
      const owner = anchorOwner.get(book.anchor ? book.anchor(href) : href);
      if (owner) addLink(links, from, owner, at);
    }
  return withVisiblePairs(items, links);
}

/** DocBook's sections: a `div.section` each, its id on the heading's anchor, navigation skipped. */
const DOCBOOK_SECTIONS: Pick<SectionBook, 'isSection' | 'skip' | 'id'> = {
  isSection: (e) => e.tag === 'div' && hasClass(e, 'section'),
  skip: (e) => docbookNavigation(e) && !hasClass(e, 'titlepage'),
  id: (section, heading) =>
    findAll(heading ?? section, (e) => e.attrs.id !== undefined)[0]?.attrs.id,
};

/**
 * debian-reference-LANG (DocBook): a book of sections. One tenant per book, not per chapter:
 * most links cross chapters (200 pairs in the book, 76 within chapters).
 */
export function debianReference(dir: string, lang: string): Dataset {
  return sectionBook(dir, {
    tenant: `${lang}-debian-reference`,
    page: (file) => new RegExp(`^(ch\\d+|ap[a-z])\\.${lang}\\.html$`).exec(file)?.[1],
    ...DOCBOOK_SECTIONS,
  });
}

/**
 * A DocBook book of sections like the Debian Reference, a page per chapter named after it
 * (`start.en.html`, `basic-defs.en.html`); the contents page is left out.
 */
function namedChapterBook(dir: string, lang: string, tenant: string): Dataset {
  return sectionBook(dir, {
    tenant,
    page: (file) => {
      const chapter = new RegExp(`^([a-z-]+)\\.${lang}\\.html$`).exec(file)?.[1];
      return chapter === 'index' ? undefined : chapter;
    },
    ...DOCBOOK_SECTIONS,
  });
}

/** maint-guide / maint-guide-ja: the Debian New Maintainers' Guide (by the Debian Reference's author). */
export const maintGuide = (dir: string, lang: string) =>
  namedChapterBook(dir, lang, `${lang}-maint-guide`);

/** debian-faq: the Debian FAQ, in English only. */
export const debianFaq = (dir: string) => namedChapterBook(dir, 'en', 'en-debian-faq');

/**
 * A Publican book (DocBook): a book of sections like the Debian Reference, a page per top-level
 * section, whose own page a link names without a fragment.
 */
function publicanBook(dir: string, tenant: string): Dataset {
  return sectionBook(dir, {
    tenant,
    page: (file) => (file.endsWith('.html') ? file.replace(/\.html$/, '') : undefined),
    ...DOCBOOK_SECTIONS,
    // A link to a section's own page has no fragment; the page is named after that section's id.
    anchor: (href) => (href.includes('#') ? href : `${href}#${href.replace(/\.html$/, '')}`),
  });
}

/**
 * debian-handbook: the Debian Administrator's Handbook in English. Its Japanese pages are mostly
 * untranslated English, so there is no Japanese set of it.
 */
export const debianHandbook = (dir: string) => publicanBook(dir, 'en-debian-handbook');

/**
 * harden-doc: the Securing Debian Manual in English. Its Japanese pages are half translated, so
 * there is no Japanese set of it.
 */
export const securingDebian = (dir: string) => publicanBook(dir, 'en-securing-debian');

/**
 * Pages of a Sphinx book that are not chapters: the contents, the search, the index, and the
 * Developer's Reference's one-page copy of the whole book.
 */
const SPHINX_NON_CHAPTERS = new Set([
  'index.html',
  'search.html',
  'genindex.html',
  'developers-reference.html',
]);

/** A Sphinx book: a book of sections like the Debian Reference, a page per chapter. */
function sphinxBook(dir: string, tenant: string): Dataset {
  return sectionBook(dir, {
    tenant,
    page: (file) =>
      file.endsWith('.html') && !SPHINX_NON_CHAPTERS.has(file)
        ? file.replace(/\.html$/, '')
        : undefined,
    isSection: (e) => e.tag === 'section',
    skip: (e) => hasClass(e, 'headerlink') || hasClass(e, 'toctree-wrapper'),
    id: (section) => section.attrs.id,
  });
}

/** developers-reference / -ja: the Debian Developer's Reference. */
export const developersReference = (dir: string, lang: string) =>
  sphinxBook(dir, `${lang}-developers-reference`);

/** debian-policy: the Debian Policy Manual, in English only. */
export const debianPolicy = (dir: string) => sphinxBook(dir, 'en-debian-policy');

/**
 * python3.11-doc with a section per item, built as the References are (a section's own text,
 * links to anchors inside sections); one tenant per top-level part, as python-docs.
 */
export function pythonDocSections(htmlRoot: string): Dataset {
  const parts = readdirSync(htmlRoot, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('_'))
    .map((entry) => entry.name)
    .sort();
  const books = parts.map((part) =>
    sectionBook(path.join(htmlRoot, part), {
      tenant: part,
      page: (file) =>
        file.endsWith('.html') ? `${part}/${file.replace(/\.html$/, '')}` : undefined,
      isSection: (e) => e.tag === 'section',
      skip: (e) => hasClass(e, 'headerlink') || hasClass(e, 'toctree-wrapper'),
      id: (section) => section.attrs.id,
    }),
  );
  return {
    items: books.flatMap((book) => book.items),
    pairs: books.flatMap((book) => book.pairs),
    visiblePairs: books.flatMap((book) => book.visiblePairs ?? []),
  };
}

/** A page's name and section digit as SEE ALSO writes it: `EVP_DigestInit.3ssl` -> `EVP_DigestInit.3`. */
function reference(file: string): string {
  return file.replace(/\.gz$/, '').replace(/\.(\d)[^.]*$/, '.$1');
}

/**
 * The pages of the `manN` folders of `manDir` whose file name `ours` accepts (several packages
 * unpack into one folder), a tenant per section (`tenantPrefix` + N), related by SEE ALSO within
 * it. A page that is a symlink (another name for a page) is no item of its own; a reference to it
 * counts as one to its page.
 */
export function manPageSet(
  manDir: string,
  tenantPrefix: string,
  ours: (file: string) => boolean,
): Dataset {
  const items: DatasetItem[] = [];
  const links = new Map<string, Set<string>>();
  for (const section of readdirSync(manDir)
    .filter((d) => /^man\d$/.test(d))
    .sort()) {
    const tenant = `${tenantPrefix}${section.slice(3)}`;
    const dir = path.join(manDir, section);
    const files = readdirSync(dir).filter(ours).sort();
    const aliases = new Set(files.filter((f) => lstatSync(path.join(dir, f)).isSymbolicLink()));
    const pages: Page[] = [];
    const idOf = new Map<string, string>();
    for (const file of files.filter((f) => !aliases.has(f))) {
      const id = file.replace(/\.gz$/, '');
      const source = gunzipSync(readFileSync(path.join(dir, file))).toString('utf8');
      const page = parsePage(source, tenant, id);
      if (!page) continue;
      pages.push(page);
      idOf.set(reference(file), id);
    }
    for (const file of aliases) {
      const page = idOf.get(reference(path.basename(readlinkSync(path.join(dir, file)))));
      if (page && !idOf.has(reference(file))) idOf.set(reference(file), page);
    }
    for (const page of pages) {
      items.push({
        tenant,
        id: page.id,
        title: `${page.name}(${page.id.split('.').pop()}) — ${page.summary}`,
        body: page.description,
      });
      const targets = page.seeAlso.map((ref) => idOf.get(ref));
      links.set(page.id, new Set(targets.filter((t): t is string => t !== undefined)));
    }
  }
  return finish(items, links);
}

/**
 * Every manual set: the packages it is built from, the folder of their files it reads (under the
 * unpacked packages' root), and its builder.
 */
export const MANUAL_SETS: Record<
  string,
  { packages: string[]; dir: string; build: (dir: string) => Dataset }
> = {
  'python-docs': {
    packages: ['python3.11-doc'],
    dir: 'usr/share/doc/python3.11/html',
    build: pythonDocs,
  },
  'python-docs-sections': {
    packages: ['python3.11-doc'],
    dir: 'usr/share/doc/python3.11/html',
    build: pythonDocSections,
  },
  'gimp-en': {
    packages: ['gimp-help-en'],
    dir: 'usr/share/gimp/2.0/help/en',
    build: (dir) => gimpHelp(dir, 'en'),
  },
  'gimp-ja': {
    packages: ['gimp-help-ja'],
    dir: 'usr/share/gimp/2.0/help/ja',
    build: (dir) => gimpHelp(dir, 'ja'),
  },
  'debian-reference-en': {
    packages: ['debian-reference-en'],
    dir: 'usr/share/debian-reference',
    build: (dir) => debianReference(dir, 'en'),
  },
  'debian-reference-ja': {
    packages: ['debian-reference-ja'],
    dir: 'usr/share/debian-reference',
    build: (dir) => debianReference(dir, 'ja'),
  },
  'debian-handbook': {
    packages: ['debian-handbook'],
    dir: 'usr/share/doc/debian-handbook/html/en-US',
    build: debianHandbook,
  },
  'developers-reference-en': {
    packages: ['developers-reference'],
    dir: 'usr/share/developers-reference',
    build: (dir) => developersReference(dir, 'en'),
  },
  'developers-reference-ja': {
    packages: ['developers-reference-ja'],
    dir: 'usr/share/developers-reference/ja',
    build: (dir) => developersReference(dir, 'ja'),
  },
  'maint-guide-en': {
    packages: ['maint-guide'],
    dir: 'usr/share/doc/maint-guide/html',
    build: (dir) => maintGuide(dir, 'en'),
  },
  'maint-guide-ja': {
    packages: ['maint-guide-ja'],
    dir: 'usr/share/doc/maint-guide-ja/html',
    build: (dir) => maintGuide(dir, 'ja'),
  },
  'postgresql-docs': {
    packages: ['postgresql-doc-15'],
    dir: 'usr/share/doc/postgresql-doc-15/html',
    build: postgresqlDocs,
  },
  'securing-debian': {
    packages: ['harden-doc'],
    dir: 'usr/share/doc/harden-doc/html/en-US',
    build: securingDebian,
  },
  'debian-policy': {
    packages: ['debian-policy'],
    dir: 'usr/share/doc/debian-policy/policy.html',
    build: debianPolicy,
  },
  'debian-faq': { packages: ['debian-faq'], dir: 'usr/share/doc/debian/FAQ', build: debianFaq },
  'openssl-man': {
    packages: ['libssl-doc'],
    dir: 'usr/share/man',
    build: (dir) => manPageSet(dir, 'openssl-man', (file) => /ssl\.gz$/.test(file)),
  },
  'git-man': {
    packages: ['git-man'],
    dir: 'usr/share/man',
    build: (dir) => manPageSet(dir, 'git-man', (file) => /^(git|scalar)/i.test(file)),
  },
};

/**
 * Writes a set's items and pairs, made readable by the batch first (readableItems), and returns
 * what it wrote. The caller marks the set built (markBuilt) once all its files are in place.
 */
export function writeDataset(dir: string, built: Dataset): Dataset {
  const readable = readableItems(built.items);
  const data: Dataset = {
    items: readable.items,
    pairs: readable.pairs(built.pairs),
    ...(built.visiblePairs && { visiblePairs: readable.pairs(built.visiblePairs) }),
  };
  mkdirSync(dir, { recursive: true });
  // Written under temporary names and renamed, so an interrupted build leaves no half set behind.
  writeFileSync(
    path.join(dir, 'items.jsonl.tmp'),
    data.items.map((i) => JSON.stringify(i)).join('\n') + '\n',
  );
  const writePairs = (file: string, pairs: Dataset['pairs']) => {
    writeFileSync(
      path.join(dir, `${file}.tmp`),
      ['tenant\ta\tb', ...pairs.map((p) => `${p.tenant}\t${p.a}\t${p.b}`)].join('\n') + '\n',
    );
    renameSync(path.join(dir, `${file}.tmp`), path.join(dir, file));
  };
  writePairs('pairs.tsv', data.pairs);
  if (data.visiblePairs) writePairs('pairs-visible.tsv', data.visiblePairs);
  renameSync(path.join(dir, 'items.jsonl.tmp'), path.join(dir, 'items.jsonl'));
  return data;
}

/**
 * A set built from its unpacked packages; a layout the builder does not know (another Debian
 * release's package) is an error that says so, never an empty set.
 */
function buildFromPackages(name: string, root: string, cache: string): Dataset {
  const set = MANUAL_SETS[name]!;
  const dir = path.join(root, set.dir);
  const unknownLayout = (what: string) =>
    new ConfigError(
      `${name}: ${what}: the files of ${set.packages.join(', ')} (unpacked in ${root}) are not where this builder reads them (it was written for Debian 12's packages). Check the package's version in ${cache}, or delete ${cache} to fetch it again.`,
    );
  if (!existsSync(dir)) throw unknownLayout(`no ${dir}`);
  const data = set.build(dir);
  if (data.items.length === 0) throw unknownLayout(`no page it reads in ${dir}`);
  return data;
}

/**
 * Builds one manual set into `outDir/name` unless it is there already; returns its folder, and
 * whether it built the set.
 */
export function buildManualSet(name: string, outDir: string): { dir: string; built: boolean } {
  const set = MANUAL_SETS[name];
  if (!set)
    throw new ConfigError(
      `Unknown manual set "${name}": choose from ${Object.keys(MANUAL_SETS).join(', ')}.`,
    );
  const dir = path.join(outDir, name);
  if (isBuilt(dir)) return { dir, built: false };
  const cache = path.join(outDir, 'debs');
  const data = writeDataset(
    dir,
    buildFromPackages(name, fetchDebianPackages(set.packages, cache), cache),
  );
  markBuilt(dir);
  const tenants = new Set(data.items.map((i) => i.tenant));
  const visible = data.visiblePairs
    ? ` (${data.visiblePairs.length} with a link inside the kept text: pairs-visible.tsv)`
    : '';
  console.error(
    `${name}: ${plural(data.items.length, 'item')} in ${plural(tenants.size, 'tenant')}, ${plural(data.pairs.length, 'pair')}${visible} -> ${dir}`,
  );
  return { dir, built: true };
}

/**
 * Builds the named sets (default: every one) into `outDir`; unknown names fail before any build.
 * Returns each set's folder and whether it built it.
 */
export function buildManualSets(
  names: string[],
  outDir: string,
): { name: string; dir: string; built: boolean }[] {
  const sets = names.length > 0 ? names : Object.keys(MANUAL_SETS);
  const unknown = sets.filter((name) => !MANUAL_SETS[name]);
  if (unknown.length > 0)
    throw new ConfigError(
      `No manual set is named ${unknown.map((name) => `"${name}"`).join(' or ')}: choose from ${Object.keys(MANUAL_SETS).join(', ')}.`,
    );
  return sets.map((name) => ({ name, ...buildManualSet(name, path.resolve(outDir)) }));
}
