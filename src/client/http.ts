// The client's transport: node:http with keep-alive connections. fetch costs about four times the CPU per
// request (measured: 0.85 ms against 0.19 ms here), which an agent pays on every dequeue and report.
import http from 'node:http';
import https from 'node:https';

const agents: Record<string, http.Agent> = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

export interface RawResponse {
  status: number;
  text: string;
}

/** Sends one request; rejects on a network failure, or with an AbortError when `signal` fires. */
export function send(url: string, method: string, headers: Record<string, string>, body?: string, signal?: AbortSignal): Promise<RawResponse> {
  const u = new URL(url);
  const agent = agents[u.protocol];
  if (!agent) return Promise.reject(new Error(`unsupported protocol "${u.protocol}": use http:// or https://`));
  const mod = u.protocol === 'https:' ? https : http;
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method, headers, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
