/**
 * The result viewer's page (api/viewer.ts serves it at /admin/viewer): plain HTML and a small
 * script, no build step. Data is only ever set with textContent, never parsed as HTML: titles are
 * user content. The page runs its own style and script alone (VIEWER_HEADERS).
 */
import { createHash } from 'node:crypto';
import { MIN_COUNT } from '../core/stats.js';
import { pageHeaders } from './page-headers.js';

const STYLE = `
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
  header { display: flex; gap: 1em; align-items: end; flex-wrap: wrap; margin-bottom: 1em; }
  label { display: flex; flex-direction: column; gap: .2em; font-size: 12px; color: #555; }
  #lists { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 1em; }
  .list { border: 1px solid #ddd; border-radius: 6px; padding: .5em .8em; }
  .list h3 { margin: .2em 0 .5em; }
  .list ol { padding-left: 1.4em; margin: 0; }
  .list li { margin: .25em 0; }
  .list li.shared { background: #fff4c2; }
  .badge { font-size: 11px; background: #e0b400; color: #fff; border-radius: 3px; padding: 0 4px; margin-left: .3em; }
  .score { color: #888; font-size: 12px; margin-left: .3em; }
  table { border-collapse: collapse; margin: .5em 0 1em; }
  td, th { border: 1px solid #ddd; padding: .2em .6em; text-align: right; }
  td:first-child, th:first-child { text-align: left; }
  #status { color: #a00; }
  #post-title { margin: .5em 0; }
  #posts { min-width: 28em; }
`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
const pct = (v) => Number.isFinite(v) ? (v * 100).toFixed(2) + '%' : '-';
let key = sessionStorage.getItem('osusume-viewer-key') || '';
$('key').value = key;

async function api(path) {
  const res = await fetch('/admin/api' + path, { headers: { authorization: 'Bearer ' + key } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.detail || res.statusText);
  return body;
}
function status(text) { $('status').textContent = text || ''; }

async function loadTenants() {
  key = $('key').value.trim();
  sessionStorage.setItem('osusume-viewer-key', key);
  try {
    const tenants = await api('/tenants');
    $('tenant').replaceChildren(...tenants.map((t) => { const o = el('option', t.tenantId + ' (' + t.version + ')'); o.value = t.tenantId; return o; }));
    status(tenants.length ? '' : 'No tenant has an active version yet: run the batch.');
    if (tenants.length) await searchPosts();
  } catch (e) { status(e.message); }
}

async function searchPosts() {
  const tenant = $('tenant').value;
  if (!tenant) return;
  try {
    const posts = await api('/tenants/' + encodeURIComponent(tenant) + '/posts?q=' + encodeURIComponent($('search').value));
    $('posts').replaceChildren(...posts.map((p) => { const o = el('option', p.title || p.postId); o.value = p.postId; return o; }));
    status(posts.length ? '' : 'No post matches.');
  } catch (e) { status(e.message); }
}

function experimentTable(x) {
  const box = el('div', undefined, 'experiment');
  box.dataset.experiment = x.id;
  box.append(el('h3', x.id + ' (' + x.type + ', ' + x.surface + '): ' + x.variants.map((v) => v.name + ' = ' + v.algorithm).join(', ')));
  if (x.missing.length) box.append(el('p', 'Not ready on this tenant: the active version has no ' + x.missing.join(', ') + ' lists (its users get the default).', 'not-ready'));
  const r = x.results;
  if (!r) { box.append(el('p', 'No results yet' + (x.resultsNote ? ': ' + x.resultsNote : '.'), 'no-results')); return box; }
  const table = el('table');
  const head = el('tr');
  for (const h of ['variant', 'users', 'exposures', 'clicks', 'CTR', '95% CI', 'lift', 'p']) head.append(el('th', h));
  table.append(head);
  for (const v of r.variants) {
    const row = el('tr');
    row.dataset.variant = v.variant;
    for (const c of [v.variant + (v.variant === r.control ? ' (control)' : ''), v.users, v.exposures, v.clicks, pct(v.ctr), v.ctrInterval ? '[' + pct(v.ctrInterval[0]) + ', ' + pct(v.ctrInterval[1]) + ']' : '-', v.lift ? pct(v.lift.value) : '', v.lift ? v.lift.pValue.toFixed(4) : '']) row.append(el('td', String(c)));
    table.append(row);
  }
  box.append(table);
  if (x.resultsMethod === 'sequential') box.append(el('p', 'Sequential: intervals and p-values stay valid however often you look (osusume results --sequential).', 'method'));
  if (r.tooLittleData.length) box.append(el('p', 'Too little data yet for ' + r.tooLittleData.join(', ') + ': no interval, lift or p-value until a variant has ${MIN_COUNT} users, ${MIN_COUNT} clicked and ${MIN_COUNT} unclicked exposures.', 'too-little'));
  if (r.srm) box.append(el('p', 'Sample ratio: p = ' + r.srm.pValue.toFixed(4) + (r.srm.mismatch ? ' — MISMATCH' : ' — ok'), 'srm'));
  if (r.interleaving) box.append(el('p', 'Preference: ' + r.interleaving.teams[0] + ' ' + r.interleaving.wins + ', ' + r.interleaving.teams[1] + ' ' + r.interleaving.losses + ', ties ' + r.interleaving.ties + '; sign test p = ' + r.interleaving.pValue.toFixed(4), 'preference'));
  return box;
}

async function showPost() {
  const tenant = $('tenant').value;
  const post = $('posts').value;
  if (!tenant || !post) return;
  try {
    const data = await api('/tenants/' + encodeURIComponent(tenant) + '/posts/' + encodeURIComponent(post));
    $('post-title').textContent = (data.post.title || data.post.postId) + '  — version ' + data.version;
    $('lists').replaceChildren(...data.lists.map((l) => {
      const box = el('div', undefined, 'list');
      box.dataset.algorithm = l.algorithm;
      box.append(el('h3', l.algorithm));
      const ol = el('ol');
      for (const i of l.items) {
        const li = el('li', undefined, i.shared ? 'item shared' : 'item');
        li.dataset.postId = i.postId;
        li.append(el('span', i.title || i.postId, 'title'), el('span', i.score.toFixed(3), 'score'));
        if (i.shared) li.append(el('span', 'shared', 'badge'));
        ol.append(li);
      }
      if (!l.items.length) ol.append(el('li', 'no list for this post', 'empty'));
      box.append(ol);
      return box;
    }));
    $('experiments').replaceChildren(...(data.experiments.length ? data.experiments.map(experimentTable) : [el('p', 'No experiment is running on this tenant.')]));
    status('');
  } catch (e) { status(e.message); }
}

$('connect').addEventListener('click', loadTenants);
$('tenant').addEventListener('change', searchPosts);
$('search').addEventListener('input', searchPosts);
$('posts').addEventListener('change', showPost);
if (key) loadTenants();
`;

export const VIEWER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>osusume — result viewer</title>
<style>${STYLE}</style>
</head>
<body>
<h1>osusume result viewer</h1>
<header>
  <label>API key (every tenant)<input id="key" type="password" size="40"></label>
  <button id="connect">Connect</button>
  <label>Tenant<select id="tenant"></select></label>
  <label>Find a post<input id="search" placeholder="title or id"></label>
  <label>Post<select id="posts" size="6"></select></label>
</header>
<p id="status"></p>
<h2 id="post-title"></h2>
<div id="lists"></div>
<h2>Experiments on this tenant</h2>
<div id="experiments"></div>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page takes a key for every tenant: no other site may frame it (a click-jacked form), and
 * it runs no script or style but its own (listed by hash), so that text that ever reached the
 * page as HTML could not run or send the key anywhere but this API.
 */
export const VIEWER_HEADERS = pageHeaders(
  `default-src 'none'; script-src ${sha256(SCRIPT)}; style-src ${sha256(STYLE)}; connect-src 'self'`,
);
