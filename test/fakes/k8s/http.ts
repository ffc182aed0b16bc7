// The HTTP face of the fake: the core/v1 paths the real client calls, JSON in and out, errors as Status bodies,
// and watch streams of newline-delimited events.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, status } from './status.js';
import { RESOURCES, type Filter, type Resource, type Store } from './store.js';

/** What the HTTP layer needs from the fake beyond plain storage: the pod semantics. */
export interface PodApi {
  store: Store;
  token?: string;
  createPod(ns: string, body: any): any;
  deletePod(ns: string, name: string, gracePeriodSeconds?: number): any;
  evictPod(ns: string, name: string, body: any): object;
  readLog(ns: string, name: string, tailLines?: number): string;
  openStream(res: ServerResponse): void;
}

const PATH =
  /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?(pods|secrets|configmaps|events|nodes)(?:\/([^/]+)(?:\/(status|log|eviction))?)?$/;

export function handler(api: PodApi) {
  return (req: IncomingMessage, res: ServerResponse) => {
    readBody(req)
      .then((body) => route(api, req, res, body))
      .catch((err) => sendError(res, err));
  };
}

async function readBody(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'BadRequest', 'the request body is not valid JSON');
  }
}

function route(api: PodApi, req: IncomingMessage, res: ServerResponse, body: any): void {
  if (api.token && req.headers.authorization !== `Bearer ${api.token}`)
    throw new ApiError(401, 'Unauthorized', 'Unauthorized');
  const url = new URL(req.url ?? '/', 'http://fake');
  if (url.pathname === '/version') return send(res, 200, { major: '1', minor: '30', gitVersion: 'v1.30.0-flotilla-fake' });
  const m = PATH.exec(url.pathname);
  if (!m) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  const [, ns, resource, name, sub] = m as unknown as [string, string | undefined, Resource, string?, string?];
  if (RESOURCES[resource].namespaced === false && ns) throw new ApiError(404, 'NotFound', `${resource} are not namespaced`);
  const q = url.searchParams;
  const method = req.method ?? 'GET';
  if (!name) return collection(api, res, method, resource, ns, q, body);
  if (sub && resource !== 'pods') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  if (method === 'PATCH') return patch(api, res, req, resource, ns, name, sub, body);
  return item(api, res, method, resource, ns, name, sub, q, body);
}

/** PATCH with a JSON merge patch (RFC 7386), the only patch type the glue sends; others get 415 as on a real server that cannot apply them. */
function patch(api: PodApi, res: ServerResponse, req: IncomingMessage, resource: Resource, ns: string | undefined, name: string, sub: string | undefined, body: any): void {
  if (sub) throw methodNotAllowed('PATCH');
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
  if (type !== 'application/merge-patch+json')
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (got "${type}")`);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'BadRequest', 'a merge patch must be a JSON object');
  return send(res, 200, api.store.update(resource, ns, name, (obj) => {
    const { name: keepName, namespace, uid } = obj.metadata;
    mergePatch(obj, body);
    Object.assign(obj.metadata, { name: keepName, namespace, uid });
  }));
}

function mergePatch(target: any, patchObj: any): void {
  for (const [k, v] of Object.entries(patchObj)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null && !Array.isArray(target[k])) mergePatch(target[k], v);
    else target[k] = structuredClone(v);
  }
}

function collection(api: PodApi, res: ServerResponse, method: string, resource: Resource, ns: string | undefined, q: URLSearchParams, body: any): void {
  const filter: Filter = {
    namespace: ns,
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
  };
  if (method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1'))
    return watch(api, res, resource, filter, q);
  if (method === 'GET') {
    const items = api.store.list(resource, filter).map(({ kind, apiVersion, ...rest }) => rest);
    const list = { kind: `${RESOURCES[resource].kind}List`, apiVersion: 'v1', metadata: { resourceVersion: String(api.store.rv) }, items };
    return send(res, 200, list);
  }
  if (method === 'POST' && (ns !== undefined || !RESOURCES[resource].namespaced)) {
    const created = resource === 'pods' ? api.createPod(ns!, body) : api.store.create(resource, ns, body);
    return send(res, 201, created);
  }
  throw methodNotAllowed(method);
}

function item(api: PodApi, res: ServerResponse, method: string, resource: Resource, ns: string | undefined, name: string, sub: string | undefined, q: URLSearchParams, body: any): void {
  if (sub === 'log' && method === 'GET') {
    const tail = q.get('tailLines');
    const text = api.readLog(ns!, name, tail === null ? undefined : Number(tail));
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return void res.end(text);
  }
  if (sub === 'eviction' && method === 'POST') return send(res, 201, api.evictPod(ns!, name, body));
  if (sub === 'log' || sub === 'eviction') throw methodNotAllowed(method);
  if (method === 'GET') return send(res, 200, api.store.get(resource, ns, name));
  if (method === 'DELETE' && !sub) {
    if (resource === 'pods') {
      const grace = q.get('gracePeriodSeconds') ?? body?.gracePeriodSeconds;
      return send(res, 200, api.deletePod(ns!, name, grace === undefined || grace === null ? undefined : Number(grace)));
    }
    const gone = api.store.remove(resource, ns, name);
    return send(res, 200, status('Success', 200, undefined, undefined, { name, kind: resource, uid: gone.metadata.uid }));
  }
  throw methodNotAllowed(method);
}

function watch(api: PodApi, res: ServerResponse, resource: Resource, filter: Filter, q: URLSearchParams): void {
  const open = () => {
    if (res.headersSent) return;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    api.openStream(res);
  };
  const write = (e: object) => {
    // Ended (dropWatches, close) but not yet 'close'd: the watcher is still subscribed for a moment.
    if (res.writableEnded) return;
    open();
    res.write(JSON.stringify(e) + '\n');
  };
  let unsubscribe: () => void;
  try {
    unsubscribe = api.store.watch(resource, filter, q.get('resourceVersion') ?? undefined, write);
  } catch (err) {
    // The real server answers a too-old version with 200 and one ERROR event carrying a 410 Status, then closes.
    if (!(err instanceof ApiError) || err.code !== 410) throw err;
    write({ type: 'ERROR', object: err.body() });
    return void res.end();
  }
  open();
  const timeout = Number(q.get('timeoutSeconds') ?? 0);
  const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
  res.on('close', () => {
    unsubscribe();
    clearTimeout(timer);
  });
}

const methodNotAllowed = (method: string) => new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource: ${method}`);

function send(res: ServerResponse, code: number, obj: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy();
  const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', String((err as Error)?.message ?? err));
  send(res, e.code, e.body());
}
