/**
 * Just enough HTML for the manual datasets (DocBook and Sphinx output, well-formed XHTML-like):
 * a small element tree, its text, and its links. Not a general HTML parser: it needs no
 * dependency, and it tolerates stray end tags by closing up to the matching open element.
 */
export interface Element {
  tag: string;
  attrs: Record<string, string>;
  children: (Element | string)[];
}

const VOID = new Set(['br', 'hr', 'img', 'meta', 'link', 'input', 'col', 'area', 'base', 'wbr']);
const BLOCK = /^(p|div|h[1-6]|li|dt|dd|tr|td|th|pre|table|section|article|blockquote|br|ul|ol|dl)$/;
const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  mdash: '—',
  ndash: '–',
  hellip: '…',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code =
        name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : +name.slice(1);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function parseAttrs(source: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of source.matchAll(/([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g))
    attrs[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  return attrs;
}

export function parseHtml(html: string): Element {
  const root: Element = { tag: '#root', attrs: {}, children: [] };
  const stack = [root];
  const source = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, '')
    .replace(/<[!?][^>]*>/g, '');
  for (const m of source.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>|([^<]+)/g)) {
    const top = stack[stack.length - 1]!;
    if (m[4] !== undefined) {
      top.children.push(decodeEntities(m[4]));
      continue;
    }
    const tag = m[2]!.toLowerCase();
    if (m[1]) {
      const at = stack.map((e) => e.tag).lastIndexOf(tag);
      if (at > 0) stack.length = at;
      continue;
    }
    const element: Element = { tag, attrs: parseAttrs(m[3]!), children: [] };
    top.children.push(element);
    if (!VOID.has(tag) && !m[3]!.endsWith('/')) stack.push(element);
  }
  return root;
}

export function hasClass(e: Element, name: string): boolean {
  return (e.attrs.class ?? '').split(/\s+/).includes(name);
}

/** Elements under `e` (itself included) that match, not descending into skipped ones. */
export function findAll(
  e: Element,
  match: (e: Element) => boolean,
  skip: (e: Element) => boolean = () => false,
): Element[] {
  const found: Element[] = [];
  const visit = (x: Element) => {
    if (skip(x)) return;
    if (match(x)) found.push(x);
    for (const c of x.children) if (typeof c !== 'string') visit(c);
  };
  visit(e);
  return found;
}

/** The pieces of visible text in order, and before which piece each link starts. */
function visibleParts(e: Element, skip: (e: Element) => boolean) {
  const parts: string[] = [];
  const links: { href: string; part: number }[] = [];
  const visit = (x: Element) => {
    if (skip(x)) return;
    if (x.tag === 'a' && x.attrs.href !== undefined)
      links.push({ href: x.attrs.href, part: parts.length });
    for (const c of x.children) {
      if (typeof c === 'string') parts.push(c);
      else {
        visit(c);
        if (BLOCK.test(c.tag)) parts.push(' ');
      }
    }
  };
  visit(e);
  return { parts, links };
}

/** Visible text with blocks separated by spaces, whitespace folded; skipped subtrees left out. */
export function textOf(e: Element, skip: (e: Element) => boolean = () => false): string {
  return visibleParts(e, skip).parts.join('').replace(/\s+/g, ' ').trim();
}

/**
 * The href of every link under `e` (skipped subtrees left out) and the offset in
 * `textOf(e, skip)` at which its text starts: whether a text cut to n characters still holds it.
 */
export function linkOffsets(
  e: Element,
  skip: (e: Element) => boolean = () => false,
): { href: string; at: number }[] {
  const { parts, links } = visibleParts(e, skip);
  // The folded text's length before each piece: a run of whitespace counts once, and only
  // between two visible characters (folded to one space, trimmed at the ends).
  const before: number[] = [];
  let length = 0;
  let space = false;
  for (const part of parts) {
    before.push(length + (space && length > 0 ? 1 : 0));
    for (let i = 0; i < part.length; i++) {
      if (/\s/.test(part[i]!)) space = true;
      else {
        length += (space && length > 0 ? 1 : 0) + 1;
        space = false;
      }
    }
  }
  before.push(length + (space && length > 0 ? 1 : 0));
  return links.map(({ href, part }) => ({ href, at: before[part]! }));
}
