// The web console's files (web/dist, built by `npm run build`) at `/`, with the single-page app's fallback:
// any GET that is not the API, not /clearml and not a file answers index.html. Hashed assets (web/dist/assets)
// never change under their name, so they are cached for a year; index.html is revalidated every time.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** web/dist of the checkout this code runs from (src/server or dist/src/server alike): the folder with package.json. */
export function defaultConsoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'web', 'dist');
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Flotilla</title></head>
<body><h1>The Flotilla console is not built</h1>
<p>The API is running under <code>/api/v1</code>. To get the web console, build it in the Flotilla checkout with
<code>npm run build</code> (or start with <code>npm start</code>, which builds), then reload this page.</p></body></html>`;

const notFound = (method: string, url: string) => ({ error: `no such endpoint: ${method} ${url.split('?')[0]}` });

export function installConsole(app: FastifyInstance, root = defaultConsoleDir()): void {
  const dir = resolve(root);
  const built = () => existsSync(join(dir, 'index.html'));
  void app.register(fastifyStatic, { root: dir, serve: false });
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = decodeURIComponent(req.url.split('?')[0]);
    if (path.startsWith('/api/') || path === '/api' || path.startsWith('/clearml')) return reply.code(404).send(notFound(req.method, req.url));
    if (!built()) return reply.code(path === '/' || !/\.[a-z0-9]+$/i.test(path) ? 200 : 404).type('text/html').send(NOT_BUILT);
    const file = resolve(dir, '.' + path);
    if (file.startsWith(dir + sep) && existsSync(file) && statSync(file).isFile()) {
      const hashed = file.startsWith(join(dir, 'assets') + sep);
      if (!hashed) reply.header('cache-control', 'no-cache');
      return reply.sendFile(file.slice(dir.length + 1), hashed
        ? { immutable: true, maxAge: '365d' }
        : { cacheControl: false });
    }
    // A path with an extension that is not there is a missing file, not a page of the app.
    if (/\.[a-z0-9]+$/i.test(path)) return reply.code(404).send(notFound(req.method, req.url));
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', { cacheControl: false });
  };
  app.get('/*', { config: { public: true } }, handler);
  app.get('/', { config: { public: true } }, handler);
}
