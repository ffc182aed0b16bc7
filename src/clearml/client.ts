// A small client of a ClearML server's REST API: the calls ClearML's own autoscaler makes to see its queues and
// workers. Logs in with the key pair (HTTP Basic) for a session token, again when the server says it expired.
import type { ClearmlCredentials } from './conf.js';

export class ClearmlCallError extends Error {}

export interface ClearmlQueue { id: string; name: string; entries?: { task: string; added?: string | null }[] }
export interface ClearmlWorker {
  id: string;
  register_time?: string | null;
  last_activity_time?: string | null;
  task?: { id: string; name?: string } | null;
  queues?: { id: string; name?: string }[];
}

export class ClearmlClient {
  private token: string | undefined;

  constructor(private readonly c: ClearmlCredentials, private readonly timeoutMs = 10_000) {}

  private url(endpoint: string) {
    return `${this.c.apiServer.replace(/\/+$/, '')}/${endpoint}`;
  }

  private async send(endpoint: string, body: unknown, auth: string): Promise<{ status: number; meta: any; data: any }> {
    const res = await fetch(this.url(endpoint), {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify(body ?? {}), signal: AbortSignal.timeout(this.timeoutMs),
    }).catch((e: Error) => { throw new ClearmlCallError(`ClearML server ${this.c.apiServer} unreachable (${endpoint}): ${e.message}`); });
    const json = await res.json().catch(() => null) as { meta?: any; data?: any } | null;
    if (!json?.meta) throw new ClearmlCallError(`${this.c.apiServer} answered ${endpoint} with HTTP ${res.status} and no ClearML envelope: is apiServer a ClearML API server?`);
    return { status: res.status, meta: json.meta, data: json.data };
  }

  private async login(): Promise<string> {
    const basic = Buffer.from(`${this.c.accessKey}:${this.c.secretKey}`).toString('base64');
    const r = await this.send('auth.login', {}, `Basic ${basic}`);
    if (r.status !== 200 || typeof r.data?.token !== 'string')
      throw new ClearmlCallError(`ClearML login to ${this.c.apiServer} failed: ${r.meta.result_msg ?? `HTTP ${r.status}`} (check the credentials secret)`);
    return (this.token = r.data.token);
  }

  async call<T = any>(endpoint: string, body: unknown = {}): Promise<T> {
    let r = await this.send(endpoint, body, `Bearer ${this.token ?? await this.login()}`);
    if (r.status === 401) r = await this.send(endpoint, body, `Bearer ${await this.login()}`);
    if (r.status !== 200) throw new ClearmlCallError(`ClearML ${endpoint} failed: ${r.meta.result_msg ?? `HTTP ${r.status}`}`);
    return r.data as T;
  }

  /** The queues of these names, with their entries (queues.get_all for the ids, queues.get_by_id for the entries). */
  async queues(names: string[]): Promise<Map<string, ClearmlQueue>> {
    const all = (await this.call<{ queues: ClearmlQueue[] }>('queues.get_all', { only_fields: ['id', 'name'] })).queues ?? [];
    const out = new Map<string, ClearmlQueue>();
    for (const q of all.filter((x) => names.includes(x.name))) {
      const full = (await this.call<{ queue: ClearmlQueue }>('queues.get_by_id', { queue: q.id })).queue;
      out.set(q.name, { ...q, entries: full?.entries ?? [] });
    }
    return out;
  }

  async workers(): Promise<ClearmlWorker[]> {
    return (await this.call<{ workers: ClearmlWorker[] }>('workers.get_all', { last_seen: 600 })).workers ?? [];
  }
}
