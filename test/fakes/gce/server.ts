// A loopback HTTP fake of the Compute Engine REST endpoints that @google-cloud/compute calls:
// instances insert/get/list/aggregatedList/delete and zone operations wait/get, with Google's error bodies.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { GceHttpError, GceState, type Json } from './state.js';

export { GceState, type Fault } from './state.js';

export interface FakeGce {
  port: number;
  state: GceState;
  close(): Promise<void>;
}

const ZONE_PATH = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/(instances|operations)(?:\/([^/]+))?(\/wait)?$/;
const AGG_PATH = /^\/compute\/v1\/projects\/([^/]+)\/aggregated\/instances$/;

function readBody(req: IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch {
        reject(new GceHttpError(400, 'parseError', 'Parse Error'));
      }
    });
    req.on('error', reject);
  });
}

/** One page of `items` by offset tokens, as GCE pages with maxResults/pageToken. */
function page<T>(items: T[], query: URLSearchParams, maxPageSize: number): { slice: T[]; nextPageToken?: string } {
  const max = Math.min(Number(query.get('maxResults') ?? maxPageSize) || maxPageSize, maxPageSize);
  const start = Number(query.get('pageToken') ?? 0) || 0;
  const end = start + max;
  return { slice: items.slice(start, end), ...(end < items.length ? { nextPageToken: String(end) } : {}) };
}

function aggregated(state: GceState, project: string, query: URLSearchParams): Json {
  state.calls.push({ method: 'aggregated' });
  const fault = state.takeFault('aggregated');
  if (fault?.http) throw new GceHttpError(fault.http.status, fault.http.reason, fault.http.message ?? fault.http.reason);
  const { slice, nextPageToken } = page(state.select(project, undefined, query.get('filter') ?? undefined), query, state.maxPageSize);
  const items: Json = {};
  for (const inst of slice) {
    const zone = `zones/${String(inst.zone).split('/').pop()}`;
    (items[zone] ??= { instances: [] }).instances.push(inst);
  }
  return { kind: 'compute#instanceAggregatedList', id: `projects/${project}/aggregated/instances`, items, ...(nextPageToken ? { nextPageToken } : {}) };
}

function listZone(state: GceState, project: string, zone: string, query: URLSearchParams): Json {
  state.calls.push({ method: 'list', zone });
  const fault = state.takeFault('list', zone);
  if (fault?.http) throw new GceHttpError(fault.http.status, fault.http.reason, fault.http.message ?? fault.http.reason);
  const { slice, nextPageToken } = page(state.select(project, zone, query.get('filter') ?? undefined), query, state.maxPageSize);
  return { kind: 'compute#instanceList', items: slice, ...(nextPageToken ? { nextPageToken } : {}) };
}

async function route(state: GceState, req: IncomingMessage): Promise<Json> {
  const url = new URL(req.url ?? '/', 'http://fake');
  const q = url.searchParams;
  const agg = AGG_PATH.exec(url.pathname);
  if (agg && req.method === 'GET') return aggregated(state, agg[1], q);
  const m = ZONE_PATH.exec(url.pathname);
  if (!m) throw new GceHttpError(404, 'notFound', `The fake has no route for ${req.method} ${url.pathname}`);
  const [, project, zone, kind, name, wait] = m;
  const requestId = q.get('requestId') ?? undefined;
  if (kind === 'operations' && name && (wait ? req.method === 'POST' : req.method === 'GET'))
    return state.waitOperation(project, zone, name);
  if (kind === 'instances' && !name && req.method === 'POST') return state.insert(project, zone, await readBody(req), requestId);
  if (kind === 'instances' && !name && req.method === 'GET') return listZone(state, project, zone, q);
  if (kind === 'instances' && name && req.method === 'GET') return state.get(project, zone, name);
  if (kind === 'instances' && name && req.method === 'DELETE') return state.delete(project, zone, name, requestId);
  throw new GceHttpError(405, 'methodNotAllowed', `${req.method} is not allowed on ${url.pathname}`);
}

function send(res: ServerResponse, status: number, body: Json): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

export async function startFakeGce(state = new GceState(), o: { port?: number; host?: string } = {}): Promise<FakeGce> {
  const server: Server = createServer((req, res) => {
    route(state, req).then(
      (body) => send(res, 200, body),
      (err: unknown) => {
        const e = err instanceof GceHttpError ? err : new GceHttpError(500, 'backendError', String(err));
        send(res, e.status, e.body());
      },
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
