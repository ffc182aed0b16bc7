// A loopback proxy in front of moto_server that answers a share of EC2 calls with the faults a real cloud
// gives: no capacity (RunInstances), throttling, 5xx, and a call that times out (held, then the connection
// dropped). It counts every call by action and by minute, so a test can see the app back off.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Rng } from './rng.js';

export type Fault = 'capacity' | 'throttle' | '5xx' | 'timeout';

export interface FaultProxy {
  url: string;
  calls: { at: number; action: string; fault?: Fault }[];
  faults(): Record<Fault, number>;
  close(): Promise<void>;
}

const xmlError = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>chaos</RequestID></Response>`;

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFaultProxy(target: string, r: Rng, o: { rate: number; timeoutMs?: number }): Promise<FaultProxy> {
  const calls: FaultProxy['calls'] = [];
  const server: Server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    const action = /Action=(\w+)/.exec(body.toString('utf8'))?.[1] ?? 'other';
    let fault: Fault | undefined;
    if (r.chance(o.rate)) fault = action === 'RunInstances' ? r.pick<Fault>(['capacity', 'throttle', '5xx', 'timeout']) : r.pick<Fault>(['throttle', '5xx', 'timeout']);
    calls.push({ at: Date.now(), action, fault });
    if (fault === 'capacity') return res.writeHead(500, { 'content-type': 'text/xml' }).end(xmlError('InsufficientInstanceCapacity', 'chaos: no capacity'));
    if (fault === 'throttle') return res.writeHead(503, { 'content-type': 'text/xml' }).end(xmlError('RequestLimitExceeded', 'chaos: rate exceeded'));
    if (fault === '5xx') return res.writeHead(500, { 'content-type': 'text/xml' }).end(xmlError('InternalError', 'chaos: internal error'));
    if (fault === 'timeout') {
      setTimeout(() => res.destroy(), o.timeoutMs ?? 1_000);
      return;
    }
    try {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)) as [string, string][]);
      const out = await fetch(target + req.url, { method: req.method, headers, body: body.length ? new Uint8Array(body) : undefined });
      res.writeHead(out.status, { 'content-type': out.headers.get('content-type') ?? 'text/xml' }).end(Buffer.from(await out.arrayBuffer()));
    } catch (e) {
      if (!res.headersSent) res.writeHead(502).end(String(e));
    }
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    calls,
    faults: () => {
      const f: Record<Fault, number> = { capacity: 0, throttle: 0, '5xx': 0, timeout: 0 };
      for (const c of calls) if (c.fault) f[c.fault]++;
      return f;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((res) => server.close(res));
    },
  };
}
