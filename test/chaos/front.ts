// A TCP front for two control-plane replicas, as a load balancer would be: each connection goes to the first
// replica that accepts it. Agents and workers talk to the front, so they survive the death of either replica.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Front { url: string; close(): Promise<void> }

export async function startFront(ports: () => number[]): Promise<Front> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const tryPort = (i: number) => {
      const port = ports()[i];
      if (port === undefined) return client.destroy();
      const upstream = connect(port, '127.0.0.1');
      upstream.once('error', () => (upstream.remoteAddress ? client.destroy() : tryPort(i + 1)));
      upstream.once('connect', () => {
        sockets.add(upstream);
        upstream.on('close', () => { sockets.delete(upstream); client.destroy(); });
        client.on('close', () => upstream.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryPort(0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
