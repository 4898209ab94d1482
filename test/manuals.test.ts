import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { linkOffsets, parseHtml, textOf } from '../scripts/datasets/html.js';
import {
  debianHandbook,
  debianReference,
  developersReference,
  gimpHelp,
  BODY_CHARS,
  buildManualSet,
  debianFaq,
  debianPolicy,
  maintGuide,
  manPageSet,
  securingDebian,
  postgresqlDocs,
  pythonDocs,
  pythonDocSections,
  writeDataset,
  type Dataset,
} from '../scripts/datasets/manuals.js';
import { parseConfig } from '../core/config.js';
import { snapshotPosts } from '../scripts/evaluate.js';

const dir = mkdtempSync(path.join(tmpdir(), 'osusume-manuals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A built set's items as [id, title, body], and its pairs as sorted `a>b`. */
const sections = (data: Dataset) => data.items.map((i) => [i.id, i.title, i.body]);
const links = (pairs: Dataset['pairs']) => pairs.map((p) => `${p.a}>${p.b}`).sort();

/** A DocBook section as the Debian Reference, the New Maintainers' Guide and the FAQ write one. */
const section = (id: string, title: string, inner: string) =>
  `<div class="section"><div class="titlepage"><h2 class="title"><a id="${id}"></a>1.1. ${title}</h2></div>${inner}</div>`;

function write(file: string, html: string): void {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), `<?xml version="1.0"?><html><body>${html}</body></html>`);
}

describe('manual dataset builders', () => {
  it('reads text and entities, and leaves out what is skipped', () => {
    const doc = parseHtml('<div><p>a &amp; b&#x3042;<br/>c</p><div class="toc">x</div></div>');
    expect(textOf(doc, (e) => e.attrs.class === 'toc')).toBe('a & bあ c');
  });

  it('finds where each link starts in the folded text', () => {
    const doc = parseHtml(
      '<div> <p>see  <a href="x.html">x</a></p><div class="toc"><a href="t.html">t</a></div><p><a href="y.html"> y</a>\n z</p></div>',
    );
    const skip = (e: { attrs: Record<string, string> }) => e.attrs.class === 'toc';
    const text = textOf(doc, skip);
    expect(text).toBe('see x y z');
    expect(linkOffsets(doc, skip)).toEqual([
      { href: 'x.html', at: text.indexOf('x') },
      { href: 'y.html', at: text.indexOf('y') },
    ]);
  });

  it('python docs: a page per item, cross-references as truth, toctree links left out', () => {
    const page = (title: string, links: string) =>
      `<div class="related"><a href="../index.html">up</a></div><div class="body"><h1>${title}<a class="headerlink" href="#x">¶</a></h1><p>About ${title}.</p>${links}</div>`;
    const parts = ['a', 'b', 'c', 'd', 'e'];
    for (const p of parts) write(`py/library/${p}.html`, page(p, ''));
    write(
      'py/library/a.html',
      page('a', '<a href="b.html#f">b</a> <a href="https://x.org/c.html">ext</a>'),
    );
    write(
      'py/library/c.html',
      page('c', '<div class="toctree-wrapper"><a href="d.html">d</a></div>'),
    );
    write('py/howto/h.html', page('h', '<a href="../library/a.html">a</a>'));
    const data = pythonDocs(path.join(dir, 'py'));
    expect(data.items.map((i) => i.id).sort()).toEqual(parts.map((p) => `library/${p}.html`));
    expect(data.items.find((i) => i.id === 'library/a.html')).toMatchObject({
      tenant: 'library',
      title: 'a',
      body: 'About a. b ext',
    });
    expect(data.pairs).toEqual([{ tenant: 'library', a: 'library/a.html', b: 'library/b.html' }]);
  });

  it('python docs: a labelled variant keeps the pairs whose link is in the text an item keeps', () => {
    const long = 'word '.repeat(BODY_CHARS / 5);
    const page = (body: string) => `<div class="body"><h1>t</h1>${body}</div>`;
    for (const p of ['a', 'b', 'c', 'd', 'e']) write(`cut/library/${p}.html`, page(`<p>${p}</p>`));
    write(
      'cut/library/a.html',
      page(`<p><a href="b.html">b</a> ${long}<a href="c.html">c</a></p>`),
    );
    write('cut/library/d.html', page(`<p>${long}<a href="a.html">a</a></p>`));
    const data = pythonDocs(path.join(dir, 'cut'));
    expect(links(data.pairs)).toEqual([
      'library/a.html>library/b.html',
      'library/a.html>library/c.html',
      'library/a.html>library/d.html',
    ]);
    expect(links(data.visiblePairs!)).toEqual(['library/a.html>library/b.html']);
    writeDataset(path.join(dir, 'cut-out'), data);
    expect(readFileSync(path.join(dir, 'cut-out', 'pairs-visible.tsv'), 'utf8')).toBe(
      'tenant\ta\tb\nlibrary\tlibrary/a.html\tlibrary/b.html\n',
    );
  });

  it('GIMP help: tenant = the chapter found through the up links, navigation links left out', () => {
    const page = (up: string, cls: string, title: string, body: string) =>
      `<link rel="up" href="${up}"/><div class="navheader"><a href="p0.html">Prev</a></div><div class="${cls}"><div class="titlepage"><h2 class="title">1.${title.length}. ${title}</h2></div><p>${body}</p></div>`;
    write('gimp/index.html', '<div class="book"><h1>GIMP</h1></div>');
    write('gimp/part.html', page('index.html', 'part', 'Part', ''));
    write('gimp/ch.html', page('part.html', 'chapter', 'Tools', 'All the tools'));
    for (let i = 0; i < 5; i++)
      write(
        `gimp/p${i}.html`,
        page(
          'ch.html',
          'sect1',
          `Tool ${i}`,
          i === 1
            ? '<a href="p2.html#z">two</a>'
            : i === 3
              ? `tool 3 ${'word '.repeat(BODY_CHARS / 5)}<a href="p4.html">four</a>`
              : `tool ${i}`,
        ),
      );
    const data = gimpHelp(path.join(dir, 'gimp'), 'en');
    expect(new Set(data.items.map((i) => i.tenant))).toEqual(new Set(['en-ch']));
    expect(data.items).toHaveLength(6);
    expect(data.items.find((i) => i.id === 'p2.html')).toMatchObject({
      title: 'Tool 2',
      body: 'tool 2',
    });
    expect(data.pairs).toEqual([
      { tenant: 'en-ch', a: 'p1.html', b: 'p2.html' },
      { tenant: 'en-ch', a: 'p3.html', b: 'p4.html' },
    ]);
    // p3's link to p4 is below the text its item keeps.
    expect(data.visiblePairs).toEqual([{ tenant: 'en-ch', a: 'p1.html', b: 'p2.html' }]);
  });

  it('Debian Reference: a section per item (own text only), links to anchors inside sections', () => {
    write(
      'ref/ch01.en.html',
      section(
        's1',
        'Shell',
        `<p>intro <a href="#k">see</a></p>${section('s2', 'Prompt', '<p>prompt<a id="k"></a></p>')}${section('s3', 'Keys', '<p>keys</p>')}`,
      ) +
        section('s4', 'Files', '<p>files <a href="ch02.en.html#t">tar</a></p>') +
        section('s5', 'Long', `<p>${'word '.repeat(BODY_CHARS / 5)}<a href="#s3">keys</a></p>`),
    );
    write('ref/ch02.en.html', section('t', 'Tar', '<p>tar</p>'));
    write('ref/ch02.ja.html', section('t', '圧縮', '<p>tar</p>'));
    const data = debianReference(path.join(dir, 'ref'), 'en');
    expect(sections(data)).toEqual([
      ['ch01#s1', 'Shell', 'intro see'],
      ['ch01#s2', 'Prompt', 'prompt'],
      ['ch01#s3', 'Keys', 'keys'],
      ['ch01#s4', 'Files', 'files tar'],
      ['ch01#s5', 'Long', 'word '.repeat(BODY_CHARS / 5).slice(0, BODY_CHARS)],
      ['ch02#t', 'Tar', 'tar'],
    ]);
    expect(links(data.pairs)).toEqual(['ch01#s1>ch01#s2', 'ch01#s3>ch01#s5', 'ch01#s4>ch02#t']);
    // s5 links to s3 below the text its item keeps.
    expect(links(data.visiblePairs!)).toEqual(['ch01#s1>ch01#s2', 'ch01#s4>ch02#t']);
    writeDataset(path.join(dir, 'out'), data);
    expect(readFileSync(path.join(dir, 'out', 'pairs.tsv'), 'utf8').split('\n')[0]).toBe(
      'tenant\ta\tb',
    );
  });
  it('python docs by section: a tenant per part, links to anchors, titles without numbers only lose numbers', () => {
    const section = (id: string, title: string, inner: string) =>
      `<section id="${id}"><h2>${title}<a class="headerlink" href="#${id}">¶</a></h2>${inner}</section>`;
    const page = (sections: string) => `<div class="body">${sections}</div>`;
    write(
      'pysec/library/json.html',
      page(
        section(
          'module-json',
          'json — JSON encoder',
          `<p>raises <a href="exceptions.html#ValueError">ValueError</a> and <a href="../reference/x.html#y">y</a></p>${section('basic-usage', 'Basic Usage', '<p>dumps</p>')}`,
        ),
      ),
    );
    write(
      'pysec/library/exceptions.html',
      page(
        section('concrete', 'Concrete exceptions', '<dl><dt id="ValueError">ValueError</dt></dl>'),
      ),
    );
    for (const n of [1, 2, 3])
      write(
        `pysec/library/m${n}.html`,
        page(section(`m${n}`, n === 3 ? 'A.3. M3' : `M${n}`, '<p>m</p>')),
      );
    write('pysec/reference/x.html', page(section('y', 'Why', '<p>y</p>')));
    write('pysec/_static/skip.html', page(section('s', 'S', '<p>s</p>')));
    const data = pythonDocSections(path.join(dir, 'pysec'));
    expect(data.items.map((i) => [i.tenant, i.id, i.title])).toEqual([
      ['library', 'library/exceptions#concrete', 'Concrete exceptions'],
      ['library', 'library/json#module-json', 'json — JSON encoder'],
      ['library', 'library/json#basic-usage', 'Basic Usage'],
      ['library', 'library/m1#m1', 'M1'],
      ['library', 'library/m2#m2', 'M2'],
      ['library', 'library/m3#m3', 'M3'],
    ]);
    // A.3. is a section number; M1 is a title. reference has one section, below the five a tenant
    // needs, and the link to it crosses parts.
    expect(data.pairs).toEqual([
      { tenant: 'library', a: 'library/exceptions#concrete', b: 'library/json#module-json' },
    ]);
    expect(data.visiblePairs).toEqual(data.pairs);
  });

  it('Developers Reference (Sphinx): a section per item, label anchors, the one-page copy left out', () => {
    const section = (id: string, title: string, inner: string, label = '') =>
      `<section id="${id}">${label && `<span id="${label}"></span>`}<h2><span class="section-number">5.1. </span>${title}<a class="headerlink" href="#${id}">¶</a></h2>${inner}</section>`;
    const page = (sections: string) =>
      `<div class="related"><a href="index.html">contents</a></div><div class="body">${sections}</div>`;
    write(
      'devref/pkgs.html',
      page(
        section(
          'packages',
          'Packages',
          `<p>upload <a class="reference internal" href="tools.html#lintian-label">lintian</a></p>${section('new', 'New packages', '<p>wnpp <a href="#packages">up</a></p>')}`,
        ),
      ),
    );
    write(
      'devref/tools.html',
      page(section('lintian', 'lintian', '<p>checks</p>', 'lintian-label')),
    );
    write('devref/developers-reference.html', page(section('all', 'Everything', '<p>all</p>')));
    write('devref/index.html', page(section('contents', 'Contents', '<p>toc</p>')));
    for (const n of [1, 2])
      write(`devref/extra${n}.html`, page(section(`x${n}`, `Extra ${n}`, '<p>x</p>')));
    const data = developersReference(path.join(dir, 'devref'), 'en');
    expect(sections(data)).toEqual([
      ['extra1#x1', 'Extra 1', 'x'],
      ['extra2#x2', 'Extra 2', 'x'],
      ['pkgs#packages', 'Packages', 'upload lintian'],
      ['pkgs#new', 'New packages', 'wnpp up'],
      ['tools#lintian', 'lintian', 'checks'],
    ]);
    expect(data.items.every((i) => i.tenant === 'en-developers-reference')).toBe(true);
    expect(links(data.pairs)).toEqual(['pkgs#new>pkgs#packages', 'pkgs#packages>tools#lintian']);
  });

  it('Debian Administrator’s Handbook (Publican): a section per item, a link to a page names its top section', () => {
    const section = (id: string, title: string, inner: string) =>
      `<div class="section"><div class="titlepage"><div><div><h2 class="title"><a id="${id}"></a>6.2. ${title}</h2></div></div></div>${inner}</div>`;
    const page = (inner: string) =>
      `<div class="navheader"><a href="sect.apt-cache.html">next</a></div>${inner}<ul class="docnav"><li><a href="apt.html">prev</a></li></ul>`;
    write(
      'handbook/apt.html',
      page(
        `<div class="chapter"><h1>APT</h1><p>intro</p>${section('sect.sources', 'sources.list', '<p>mirrors <a class="xref" href="sect.apt-cache.html">the cache</a></p>')}</div>`,
      ),
    );
    write(
      'handbook/sect.apt-cache.html',
      page(
        section(
          'sect.apt-cache',
          'apt-cache',
          `<p>search</p>${section('sect.apt-cache-policy', 'policy', '<p>pins <a class="xref" href="apt.html#sect.sources">sources</a></p>')}`,
        ),
      ),
    );
    write(
      'handbook/sect.extra.html',
      page(section('sect.x1', 'Extra 1', '<p>x</p>') + section('sect.x2', 'Extra 2', '<p>x</p>')),
    );
    const data = debianHandbook(path.join(dir, 'handbook'));
    expect(sections(data)).toEqual([
      ['apt#sect.sources', 'sources.list', 'mirrors the cache'],
      ['sect.apt-cache#sect.apt-cache', 'apt-cache', 'search'],
      ['sect.apt-cache#sect.apt-cache-policy', 'policy', 'pins sources'],
      ['sect.extra#sect.x1', 'Extra 1', 'x'],
      ['sect.extra#sect.x2', 'Extra 2', 'x'],
    ]);
    expect(data.items.every((i) => i.tenant === 'en-debian-handbook')).toBe(true);
    // The page link without a fragment reaches the page's top section; navigation counts for nothing.
    expect(links(data.pairs)).toEqual([
      'apt#sect.sources>sect.apt-cache#sect.apt-cache',
      'apt#sect.sources>sect.apt-cache#sect.apt-cache-policy',
    ]);
  });
  it('PostgreSQL docs: tenant = the part found through the Up links; pages in no part and links across parts left out', () => {
    const page = (up: string, cls: string, heading: string, body: string) =>
      `<div class="navheader"><a accesskey="p" href="prev.html">Prev</a><a accesskey="u" href="${up}">Up</a></div><div class="${cls}"><div class="titlepage"><h2 class="title">${heading}</h2></div><div class="toc"><a href="s1.html">toc</a></div>${body}</div><div class="navfooter"><a href="next.html">Next</a></div>`;
    write('pg/index.html', '<div class="book"><h1>PostgreSQL</h1></div>');
    write(
      'pg/preface.html',
      page('index.html', 'preface', 'Preface', '<p>history <a href="s1.html">s1</a></p>'),
    );
    write('pg/tutorial.html', page('index.html', 'part', 'Part I. Tutorial', '<p>welcome</p>'));
    write(
      'pg/start.html',
      page('tutorial.html', 'chapter', 'Chapter 1. Getting Started', '<p>start</p>'),
    );
    write(
      'pg/s1.html',
      page('start.html', 'sect1', '1.1. Installation', '<p>install <a href="s2.html#x">s2</a></p>'),
    );
    write(
      'pg/s2.html',
      page(
        'start.html',
        'sect1',
        '1.2. Architecture',
        '<p>servers <a href="sql-select.html">SELECT</a></p>',
      ),
    );
    write('pg/s3.html', page('start.html#top', 'sect1', 'E.1. Release 15.1', '<p>fixes</p>'));
    write('pg/reference.html', page('index.html', 'part', 'Part VI. Reference', '<p>commands</p>'));
    write('pg/commands.html', page('reference.html', 'reference', 'SQL Commands', '<p>all</p>'));
    for (const name of ['SELECT', 'INSERT', 'DELETE', 'UPDATE'])
      write(
        `pg/sql-${name.toLowerCase()}.html`,
        `<div class="navheader"><a accesskey="u" href="commands.html">Up</a></div><div class="refentry"><div class="titlepage"></div><div class="refnamediv"><h2><span class="refentrytitle">${name}</span></h2><p>${name} — a command</p></div><p>see <a href="sql-insert.html">INSERT</a></p></div>`,
      );
    const data = postgresqlDocs(path.join(dir, 'pg'));
    expect(data.items.map((i) => [i.tenant, i.id, i.title])).toEqual([
      ['reference', 'commands.html', 'SQL Commands'],
      ['reference', 'reference.html', 'Reference'],
      ['tutorial', 's1.html', 'Installation'],
      ['tutorial', 's2.html', 'Architecture'],
      ['tutorial', 's3.html', 'Release 15.1'],
      ['reference', 'sql-delete.html', 'DELETE'],
      ['reference', 'sql-insert.html', 'INSERT'],
      ['reference', 'sql-select.html', 'SELECT'],
      ['reference', 'sql-update.html', 'UPDATE'],
      ['tutorial', 'start.html', 'Getting Started'],
      ['tutorial', 'tutorial.html', 'Tutorial'],
    ]);
    expect(data.items.find((i) => i.id === 's1.html')!.body).toBe('install s2');
    expect(data.items.find((i) => i.id === 'sql-select.html')!.body).toBe(
      'SELECT SELECT — a command see INSERT',
    );
    // The table of contents, the navigation, the preface's link and s2's link across parts count for nothing.
    expect(links(data.pairs)).toEqual([
      's1.html>s2.html',
      'sql-delete.html>sql-insert.html',
      'sql-insert.html>sql-select.html',
      'sql-insert.html>sql-update.html',
    ]);
  });

  it('New Maintainers’ Guide: a section per item of every chapter page but the contents', () => {
    write('mg/index.ja.html', section('abstract', '概要', '<p>目次</p>'));
    write(
      'mg/start.ja.html',
      section(
        'needprogs',
        '必要なプログラム',
        '<p>dpkg-dev <a href="build.ja.html#pbuilder">pbuilder</a></p>',
      ),
    );
    write(
      'mg/build.ja.html',
      section('pbuilder', 'pbuilder パッケージ', '<p>chroot</p>') +
        ['a', 'b', 'c'].map((id) => section(id, `節 ${id}`, '<p>本文</p>')).join(''),
    );
    write('mg/build.en.html', section('pbuilder', 'pbuilder package', '<p>chroot</p>'));
    const data = maintGuide(path.join(dir, 'mg'), 'ja');
    expect(sections(data)).toEqual([
      ['build#pbuilder', 'pbuilder パッケージ', 'chroot'],
      ['build#a', '節 a', '本文'],
      ['build#b', '節 b', '本文'],
      ['build#c', '節 c', '本文'],
      ['start#needprogs', '必要なプログラム', 'dpkg-dev pbuilder'],
    ]);
    expect(data.items.every((i) => i.tenant === 'ja-maint-guide')).toBe(true);
    expect(links(data.pairs)).toEqual(['build#pbuilder>start#needprogs']);
  });
  it('Debian FAQ, Policy, Securing Debian: the same builders, their own tenants; the FAQ reads hyphenated chapter names', () => {
    const chapter = ['s1', 's2', 's3', 's4']
      .map((id) =>
        section(id, `What is ${id}?`, `<p>${id} <a href="pkg-basics.en.html#p1">pkg</a></p>`),
      )
      .join('');
    write('faq/basic-defs.en.html', chapter);
    // The same page under its language-less name (a symlink in the package), and the contents.
    write('faq/basic-defs.html', chapter);
    write('faq/index.en.html', section('toc', 'Contents', '<p>all</p>'));
    write('faq/pkg-basics.en.html', section('p1', 'What is a package?', '<p>a .deb</p>'));
    const faq = debianFaq(path.join(dir, 'faq'));
    expect(faq.items.map((i) => `${i.tenant} ${i.id}`)).toEqual([
      'en-debian-faq basic-defs#s1',
      'en-debian-faq basic-defs#s2',
      'en-debian-faq basic-defs#s3',
      'en-debian-faq basic-defs#s4',
      'en-debian-faq pkg-basics#p1',
    ]);
    expect(faq.pairs).toHaveLength(4);
    // Policy is built as the Developer's Reference, Securing Debian as the Handbook.
    write('policy/index.html', '<section id="toc"><h1>Policy</h1></section>');
    write(
      'policy/ch-binary.html',
      ['a', 'b', 'c', 'd', 'e']
        .map((id) => `<section id="${id}"><h2>${id}</h2><p>${id}</p></section>`)
        .join(''),
    );
    expect(debianPolicy(path.join(dir, 'policy')).items.map((i) => `${i.tenant} ${i.id}`)).toEqual(
      ['a', 'b', 'c', 'd', 'e'].map((id) => `en-debian-policy ch-binary#${id}`),
    );
    write(
      'secure/ch03.html',
      ['a', 'b', 'c', 'd', 'e'].map((id) => section(id, id, '<p>x</p>')).join(''),
    );
    expect(new Set(securingDebian(path.join(dir, 'secure')).items.map((i) => i.tenant))).toEqual(
      new Set(['en-securing-debian']),
    );
  });
  it('man pages: a page per item, SEE ALSO as truth, an alias (symlink) counted as its page, other packages and small sections left out', () => {
    const man = path.join(dir, 'man');
    const page = (file: string, name: string, description: string, seeAlso: string) => {
      mkdirSync(path.join(man, path.dirname(file)), { recursive: true });
      const roff = [
        '.\\" generated by pod2man',
        '.SH "NAME"',
        `${name} \\- what ${name} does`,
        '.SH "DESCRIPTION"',
        // Size, motion and colour escapes (pod2man, DocBook) and a named character.
        `\\&\\fB${description}\\fR does it\\h'-04' over \\s-1TLS\\s0 in \\m[blue]\\[aq]one\\[aq] go.`,
        '.SH "SEE ALSO"',
        seeAlso,
      ].join('\n');
      writeFileSync(path.join(man, file), gzipSync(roff));
    };
    page(
      'man3/a.3ssl.gz',
      'a, a_free',
      'a()',
      '\\fBb\\fR\\|(3), \\fBc_alias\\fR\\|(3), \\fBgone\\fR\\|(3)',
    );
    page('man3/b.3ssl.gz', 'b', 'b()', '\\fBa_free\\fR\\|(3), \\fBother\\fR\\|(3)');
    page('man3/c.3ssl.gz', 'c, c_alias', 'c()', '\\fBd\\fR\\|(3)');
    page('man3/d.3ssl.gz', 'd', 'd()', '\\fBd\\fR\\|(3)');
    page('man3/e.3ssl.gz', 'e', 'e()', '');
    symlinkSync('a.3ssl.gz', path.join(man, 'man3/a_free.3ssl.gz'));
    symlinkSync('c.3ssl.gz', path.join(man, 'man3/c_alias.3ssl.gz'));
    // Another package's page in the same folder, and a section too small to be a tenant.
    page('man3/other.3.gz', 'other', 'other()', '\\fBb\\fR\\|(3)');
    page('man7/ssl.7ssl.gz', 'ssl', 'ssl', '\\fBa\\fR\\|(3)');
    const data = manPageSet(man, 'openssl-man', (file) => /ssl\.gz$/.test(file));
    const names: Record<string, string> = { a: 'a, a_free', c: 'c, c_alias' };
    expect(data.items.map((i) => [i.tenant, i.id, i.title, i.body])).toEqual(
      ['a', 'b', 'c', 'd', 'e'].map((id) => {
        const name = names[id] ?? id;
        return [
          'openssl-man3',
          `${id}.3ssl`,
          `${name}(3ssl) — what ${name} does`,
          `${id}() does it over TLS in 'one' go.`,
        ];
      }),
    );
    expect(links(data.pairs)).toEqual(['a.3ssl>b.3ssl', 'a.3ssl>c.3ssl', 'c.3ssl>d.3ssl']);
  });
  it('builds a set from its unpacked package, and says so when the package is not laid out as expected', () => {
    const out = path.join(dir, 'built');
    const faqDir = path.join(out, 'debs/root/usr/share/doc/debian/FAQ');
    mkdirSync(path.join(out, 'debs/root'), { recursive: true });
    // Marked unpacked, so nothing is downloaded.
    writeFileSync(path.join(out, 'debs/debian-faq.unpacked'), 'debian-faq_11.1_all.deb');
    expect(() => buildManualSet('debian-faq', out)).toThrow(
      /debian-faq: no .*FAQ: the files of debian-faq \(unpacked in .*\) are not where this builder reads them .* delete .*debs/,
    );
    mkdirSync(faqDir, { recursive: true });
    writeFileSync(path.join(faqDir, 'index.en.html'), '<html><body></body></html>');
    expect(() => buildManualSet('debian-faq', out)).toThrow(
      /debian-faq: no page it reads in .*FAQ: the files of debian-faq/,
    );
    expect(existsSync(path.join(out, 'debian-faq'))).toBe(false);
    const question = (id: string) => section(id, `Q ${id}?`, '<p>answer</p>');
    writeFileSync(
      path.join(faqDir, 'basic-defs.en.html'),
      `<html><body>${['a', 'b', 'c', 'd', 'e'].map(question).join('')}</body></html>`,
    );
    const { dir: built } = buildManualSet('debian-faq', out);
    expect(readFileSync(path.join(built, 'items.jsonl'), 'utf8').trim().split('\n')).toHaveLength(
      5,
    );
    expect(buildManualSet('debian-faq', out).built).toBe(false);
    // A set an older builder wrote (no BUILT_BY) is built again, not scored stale.
    rmSync(path.join(built, 'BUILT_BY'));
    expect(buildManualSet('debian-faq', out).built).toBe(true);
  });

  it('writes only items the batch reads: ids made valid, lost characters dropped, empty items left out with their pairs', () => {
    const long = `ch#${'relationships-'.repeat(12)}`;
    const data = writeDataset(path.join(dir, 'readable'), {
      items: [
        { tenant: 't', id: 'ch09#_with internal_features', title: 'Vim', body: 'a' },
        { tenant: 't', id: `${long}a`, title: 'Depends', body: 'b' },
        { tenant: 't', id: `${long}b`, title: 'Build-Depends', body: 'c' },
        { tenant: 't', id: 'codecs', title: 'Error handlers', body: 'U+FFFD (\uFFFD) replaces' },
        { tenant: 't', id: 'empty', title: '\uFFFD', body: ' ' },
      ],
      pairs: [
        { tenant: 't', a: 'ch09#_with internal_features', b: `${long}a` },
        { tenant: 't', a: `${long}b`, b: 'empty' },
        { tenant: 't', a: 'codecs', b: `${long}b` },
      ],
    });
    const written = readFileSync(path.join(dir, 'readable', 'items.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Dataset['items'][number]);
    expect(written).toEqual(data.items);
    const skipped: string[] = [];
    snapshotPosts(written, parseConfig({}, dir).pipeline, (problem) => skipped.push(problem));
    expect(skipped).toEqual([]);
    const ids = written.map((i) => i.id);
    expect(ids[0]).toBe('ch09#_with_internal_features');
    expect(ids[1]).toHaveLength(128);
    expect(ids[1]!.slice(0, 100)).toBe(ids[2]!.slice(0, 100));
    expect(ids[1]).not.toBe(ids[2]);
    expect(written[3]!.body).toBe('U+FFFD () replaces');
    expect(ids).not.toContain('empty');
    expect(links(data.pairs)).toEqual([
      `ch09#_with_internal_features>${ids[1]}`,
      `codecs>${ids[2]}`,
    ]);
    expect(readFileSync(path.join(dir, 'readable', 'pairs.tsv'), 'utf8')).toBe(
      `tenant\ta\tb\nt\tch09#_with_internal_features\t${ids[1]}\nt\tcodecs\t${ids[2]}\n`,
    );
  });
});
