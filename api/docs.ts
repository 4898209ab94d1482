/**
 * Interactive API docs at /docs: Swagger UI, served from the swagger-ui-dist package in
 * node_modules (the machines it runs on may have no internet, so no CDN), reading the API's own
 * /openapi.json. "Try it out" sends real requests; the Authorize button takes an API key.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';
import { pageHeaders } from './page-headers.js';

const DIST = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The only files served: a fixed list, so no request path ever reaches the file system. */
const ASSETS = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
]);

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>osusume API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// A file of its own rather than an inline script, so that DOCS_HEADERS' policy, without
// 'unsafe-inline', allows it. No validator: its badge is an image from validator.swagger.io,
// which would send it the document's address.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#docs',
  deepLinking: true,
  persistAuthorization: true,
  validatorUrl: null,
});
`;

/**
 * The page takes an API key ("Authorize"): it runs only the files above, from this API, and
 * sends requests only to it. Swagger UI's stylesheet draws its icons as data: SVG images.
 */
const DOCS_HEADERS = pageHeaders(
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'",
);

export function docsRoutes(): Hono {
  const files = new Map<string, Buffer>();
  const read = (name: string) => {
    let body = files.get(name);
    if (!body) files.set(name, (body = readFileSync(path.join(DIST, name))));
    return body;
  };
  const docs = new Hono();
  docs.get('/', (c) => c.html(PAGE, 200, DOCS_HEADERS));
  docs.get('/init.js', (c) => c.body(INIT, 200, { 'content-type': 'text/javascript' }));
  docs.get('/:asset', (c) => {
    const name = c.req.param('asset');
    const type = ASSETS.get(name);
    if (!type) return c.notFound();
    return c.body(new Uint8Array(read(name)), 200, {
      'content-type': type,
      // The package version pins the content: browsers may keep it for a day.
      'cache-control': 'public, max-age=86400',
    });
  });
  return docs;
}
