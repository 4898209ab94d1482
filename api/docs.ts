/**
 * Interactive API docs at /docs: Swagger UI, served from the swagger-ui-dist package in
 * node_modules (the machines it runs on may have no internet, so no CDN), reading the API's own
 * /openapi.json. "Try it out" sends real requests; the Authorize button takes an API key.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';

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

// A file of its own rather than an inline script, so that a Content-Security-Policy without
// 'unsafe-inline' still allows the page.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#docs',
  deepLinking: true,
  persistAuthorization: true,
});
`;

export function docsRoutes(): Hono {
  const files = new Map<string, Buffer>();
  const read = (name: string) => {
    let body = files.get(name);
    if (!body) files.set(name, (body = readFileSync(path.join(DIST, name))));
    return body;
  };
  const docs = new Hono();
  docs.get('/', (c) => c.html(PAGE));
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
