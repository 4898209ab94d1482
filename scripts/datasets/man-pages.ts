/**
 * Manual pages (roff) read for evaluation: a page's name, one-line summary, the start of its
 * DESCRIPTION, and its SEE ALSO / 関連項目 references. The committed demo set
 * (scripts/make-demo-data.ts) and the suite's other man-page sets (manPageSet) read pages alike.
 */

/** Characters of DESCRIPTION kept: a man page's summary of itself, as long as a short post. */
const BODY_CHARS = 600;
const SECTION_ALIASES: Record<string, 'name' | 'description' | 'seealso'> = {
  NAME: 'name',
  名前: 'name',
  DESCRIPTION: 'description',
  説明: 'description',
  'SEE ALSO': 'seealso',
  関連項目: 'seealso',
};

/** The special characters that read as text (`\(aq`, `\[aq]`); any other is dropped. */
const NAMED_CHARACTERS: Record<string, string> = {
  aq: "'",
  dq: '"',
  lq: '"',
  rq: '"',
  oq: "'",
  cq: "'",
  em: '—',
  en: '—',
  ha: '^',
  ti: '~',
  rs: '\\',
  mi: '-',
  pl: '+',
  eq: '=',
};

/**
 * Plain text of one roff line: font, size, colour and motion escapes removed, special characters
 * written as what they stand for.
 */
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
    .replace(/\\s[-+]?(\d|\(\d\d|\[\d+\])/g, '')
    .replace(/\\[hv]'[^']*'/g, '')
    .replace(/\\m(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\[ud]/g, '')
    .replace(/\\0/g, ' ')
    .replace(
      /\\(?:\((..)|\[([^\]]*)\])/g,
      (_, short?: string, long?: string) => NAMED_CHARACTERS[(short ?? long)!] ?? '',
    )
    .replace(/\\\*(\(..|.)/g, '')
    .replace(/\\[-e]/g, (m) => (m === '\\-' ? '-' : '\\'))
    .replace(/\\[&|^%c]/g, '')
    .replace(/\\ /g, ' ')
    .trim();
}

/** What a page says of itself; `seeAlso` as `name.N` (a section's digit, whatever its suffix). */
export interface Page {
  tenant: string;
  id: string;
  name: string;
  summary: string;
  description: string;
  seeAlso: string[];
}

/** One page's roff source read; null for a `.so` alias or a page without a NAME line. */
export function parsePage(source: string, tenant: string, id: string): Page | null {
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
