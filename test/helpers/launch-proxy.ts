// A loopback HTTP proxy in front of moto that can hold EC2 RunInstances calls in flight, so a test can
// kill the control plane at a known point of a burst: some launches made in moto with no answer yet
// (the machine exists, the caller never learnt its id), others never delivered at all.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface LaunchProxy {
  url: string;
  /** RunInstances calls held so far: `made` reached moto (the machine exists), `lost` did not. */
  held(): { made: number; lost: number };
  /** From now on everything passes straight through; held calls are dropped. */
  passThrough(): void;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function forward(target: string, req: IncomingMessage, body: Buffer) {
  const headers = Object.fromEntries(Object.entries(req.headers)
    .filter(([k]) => !['host', 'connection', 'content-length'].includes(k)) as [string, string][]);
  const res = await fetch(target + req.url, { method: req.method, headers, body: body.length ? new Uint8Array(body) : undefined });
  return { status: res.status, type: res.headers.get('content-type') ?? 'text/xml', body: Buffer.from(await res.arrayBuffer()) };
}

/**
 * Holds RunInstances calls: odd ones after moto made the machine, even ones before it reaches moto. The first
 * `passFirst` go through answered: the act loop sends one launch per offering first (a probe) and the rest of a
 * burst only once that one worked.
 */
export async function startLaunchProxy(target: string, o: { passFirst?: number } = {}): Promise<LaunchProxy> {
  let passing = o.passFirst ?? 0;
  let holding = true;
  let made = 0;
  let lost = 0;
  let seq = 0;
  const held: ServerResponse[] = [];
  const server: Server = createServer(async (req, res) => {
    try {
      const body = await bodyOf(req);
      let launch = body.toString('utf8').includes('Action=RunInstances');
      if (launch && passing > 0) {
        passing--;
        launch = false;
      }
      const n = launch ? seq++ : -1;
      if (holding && launch && n % 2 === 1) {
        lost++;
        held.push(res);
        return;
      }
      const out = await forward(target, req, body);
      if (holding && launch) {
        made++;
        held.push(res);
        return;
      }
      res.writeHead(out.status, { 'content-type': out.type }).end(out.body);
    } catch (e) {
      if (!res.headersSent) res.writeHead(502).end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const passThrough = () => {
    holding = false;
    for (const res of held.splice(0)) res.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    held: () => ({ made, lost }),
    passThrough,
    async close() {
      passThrough();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
