// The console's live view over Server-Sent Events, built from the control plane's own events (published after
// COMMIT, store/events.ts). Each message says what changed (topic, and app, queue or task when one thing did), so
// the console re-reads only that. Bursts are coalesced (at most one message per topic every 250 ms); the last
// messages are kept in a ring so a dropped stream resumes from Last-Event-ID, or is told to reset.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StoreEvent, Events } from '../store/events.js';

export type Topic = 'tasks' | 'workers' | 'instances' | 'decisions' | 'queues' | 'apps';
export interface LiveMessage { topic: Topic; app?: string; queue?: string; taskId?: string }

export interface LiveSettings {
  /** Per topic, at most one message per this many ms. */
  coalesceMs: number;
  heartbeatMs: number;
  /** Messages kept for resuming. */
  ring: number;
  /** Open streams per token. */
  maxPerToken: number;
}

export const LIVE_DEFAULTS: LiveSettings = { coalesceMs: 250, heartbeatMs: 15_000, ring: 2_000, maxPerToken: 8 };

/** The console messages a store event makes (log lines have their own follow: GET /tasks/:id/logs). */
export function messagesOf(e: StoreEvent): LiveMessage[] {
  switch (e.kind) {
    case 'enqueue': return [{ topic: 'tasks', queue: e.queue }, { topic: 'queues', queue: e.queue }];
    case 'task': return [{ topic: 'tasks', queue: e.queue, taskId: e.taskId }, { topic: 'queues', queue: e.queue }];
    case 'worker': return [{ topic: 'workers' }];
    case 'apps': return [{ topic: 'apps' }];
    case 'instances': return [{ topic: 'instances', app: e.app }];
    case 'decisions': return [{ topic: 'decisions', app: e.app }];
    default: return [];
  }
}

/** Two messages of one topic in one window become one that names only what they share. */
function merge(a: LiveMessage, b: LiveMessage): LiveMessage {
  const out: LiveMessage = { topic: a.topic };
  for (const k of ['app', 'queue', 'taskId'] as const) if (a[k] !== undefined && a[k] === b[k]) out[k] = a[k];
  return out;
}

interface Client { send(id: string, m: LiveMessage): void }

export class LiveHub {
  /** Ids are `<boot>-<n>`: an id from another run of the server (or too old for the ring) asks for a reset. */
  private readonly boot = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly ring: { n: number; m: LiveMessage }[] = [];
  private readonly pending = new Map<Topic, LiveMessage>();
  private readonly lastSent = new Map<Topic, number>();
  private readonly timers = new Map<Topic, NodeJS.Timeout>();
  private readonly clients = new Set<Client>();
  private readonly perToken = new Map<string, number>();
  private off?: () => void;

  constructor(private readonly events: Events, readonly settings: LiveSettings = LIVE_DEFAULTS) {}

  /** Receives every message as it is sent (the streams; tests). */
  subscribe(send: (id: string, m: LiveMessage) => void): () => void {
    if (!this.off) this.off = this.events.on((e) => { for (const m of messagesOf(e)) this.offer(m); });
    const client: Client = { send };
    this.clients.add(client);
    return () => this.clients.delete(client);
  }

  close(): void {
    this.off?.();
    this.off = undefined;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private offer(m: LiveMessage): void {
    const prev = this.pending.get(m.topic);
    this.pending.set(m.topic, prev ? merge(prev, m) : m);
    if (this.timers.has(m.topic)) return;
    const wait = Math.max(0, (this.lastSent.get(m.topic) ?? -Infinity) + this.settings.coalesceMs - Date.now());
    this.timers.set(m.topic, setTimeout(() => this.flush(m.topic), wait));
  }

  private flush(topic: Topic): void {
    this.timers.delete(topic);
    const m = this.pending.get(topic);
    if (!m) return;
    this.pending.delete(topic);
    this.lastSent.set(topic, Date.now());
    const n = ++this.seq;
    this.ring.push({ n, m });
    if (this.ring.length > this.settings.ring) this.ring.shift();
    for (const c of this.clients) c.send(`${this.boot}-${n}`, m);
  }

  /** The messages after `lastId`, or 'reset' when they are no longer all kept (or the id is another run's). */
  since(lastId: string): { n: number; m: LiveMessage }[] | 'reset' {
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastId);
    if (!match || match[1] !== this.boot) return 'reset';
    const n = Number(match[2]);
    const first = this.ring[0]?.n ?? this.seq + 1;
    if (n > this.seq || n < first - 1) return 'reset';
    return this.ring.filter((r) => r.n > n);
  }

  /** Serves one stream until the client goes; false when the token already has its most streams open. */
  serve(req: FastifyRequest, reply: FastifyReply, tokenId: string, closing: AbortSignal): boolean {
    const open = this.perToken.get(tokenId) ?? 0;
    if (open >= this.settings.maxPerToken) return false;
    this.perToken.set(tokenId, open + 1);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive', 'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const write = (id: string, m: LiveMessage) => res.write(`id: ${id}\ndata: ${JSON.stringify(m)}\n\n`);
    const last = req.headers['last-event-id'];
    if (typeof last === 'string' && last) {
      const missed = this.since(last);
      if (missed === 'reset') res.write(`id: ${this.boot}-${this.seq}\nevent: reset\ndata: {}\n\n`);
      else for (const r of missed) write(`${this.boot}-${r.n}`, r.m);
    }
    const unsubscribe = this.subscribe(write);
    const beat = setInterval(() => res.write(': heartbeat\n\n'), this.settings.heartbeatMs);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      unsubscribe();
      clearInterval(beat);
      this.perToken.set(tokenId, (this.perToken.get(tokenId) ?? 1) - 1);
      if (closing.aborted) res.end();
    };
    req.raw.on('close', end);
    closing.addEventListener('abort', end, { once: true });
    return true;
  }
}
