// A loopback fake of the two clouds' instance metadata servers, as far as the interruption watch uses
// them: EC2's IMDSv2 (a session token from PUT /latest/api/token, required on every GET; the spot
// instance-action and the rebalance recommendation answer 404 until set) and Compute Engine's
// `instance/preempted` (Metadata-Flavor: Google required; wait_for_change holds until the value changes).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface FakeMetadata {
  url: string;
  /** EC2: the spot instance-action, as AWS writes it (the machine goes at `at`). */
  announceStop(action: 'terminate' | 'stop' | 'hibernate', at: Date): void;
  /** EC2: a rebalance recommendation. */
  recommendRebalance(): void;
  /** Compute Engine: instance/preempted turns TRUE (held long polls answer at once). */
  preempt(): void;
  /** Back to a machine with nothing announced. */
  clear(): void;
  /** Requests served, by path without the query. */
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startFakeMetadata(o: { port?: number } = {}): Promise<FakeMetadata> {
  const tokens = new Set<string>();
  let action: { action: string; time: string } | null = null;
  let rebalance: { noticeTime: string } | null = null;
  let preempted = false;
  const waiting = new Set<() => void>();
  const hits = new Map<string, number>();
  const etag = () => (preempted ? 'etag-true' : 'etag-false');
  const changed = () => {
    for (const w of waiting) w();
    waiting.clear();
  };

  const aws = (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT' || !req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return send(res, 400, 'PUT with a TTL header');
      const t = randomBytes(12).toString('base64url');
      tokens.add(t);
      return send(res, 200, t);
    }
    if (!tokens.has(String(req.headers['x-aws-ec2-metadata-token'] ?? ''))) return send(res, 401, 'IMDSv2: a session token is required');
    if (path === '/latest/meta-data/instance-id') return send(res, 200, 'i-fake');
    if (path === '/latest/meta-data/spot/instance-action') return action ? json(res, action) : send(res, 404, 'Not Found');
    if (path === '/latest/meta-data/events/recommendations/rebalance') return rebalance ? json(res, rebalance) : send(res, 404, 'Not Found');
    return send(res, 404, 'Not Found');
  };

  const gce = (req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams) => {
    if (req.headers['metadata-flavor'] !== 'Google') return send(res, 403, 'Missing Metadata-Flavor: Google');
    if (path !== '/computeMetadata/v1/instance/preempted') return send(res, 404, 'Not Found');
    const answer = () => {
      res.setHeader('ETag', etag());
      send(res, 200, preempted ? 'TRUE' : 'FALSE');
    };
    if (q.get('wait_for_change') !== 'true' || q.get('last_etag') !== etag()) return answer();
    const timer = setTimeout(() => (waiting.delete(answer), answer()), Number(q.get('timeout_sec') ?? 60) * 1000);
    const done = () => (clearTimeout(timer), answer());
    waiting.add(done);
    res.on('close', () => (clearTimeout(timer), waiting.delete(done)));
  };

  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    hits.set(u.pathname, (hits.get(u.pathname) ?? 0) + 1);
    if (u.pathname.startsWith('/computeMetadata/')) return gce(req, res, u.pathname, u.searchParams);
    return aws(req, res, u.pathname);
  });
  await new Promise<void>((r) => server.listen(o.port ?? 0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    announceStop(a, at) {
      action = { action: a, time: at.toISOString().replace(/\.\d+Z$/, 'Z') };
    },
    recommendRebalance() {
      rebalance = { noticeTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    },
    preempt() {
      preempted = true;
      changed();
    },
    clear() {
      action = null;
      rebalance = null;
      preempted = false;
      changed();
    },
    hits: (path) => hits.get(path) ?? 0,
    close: () => new Promise<void>((r) => {
      changed();
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

function send(res: ServerResponse, status: number, body: string) {
  if (res.writableEnded) return;
  res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}

function json(res: ServerResponse, body: unknown) {
  res.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify(body));
}
