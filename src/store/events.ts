// Wake-ups between parts of the control plane: an enqueue wakes waiting agents and reconcilers,
// a log line wakes followers. PostgreSQL's LISTEN/NOTIFY carries them to the other replicas, and only
// while there are others: replicas say hello on start, beat every 10 s and bye on stop, so a lone
// control plane (the usual case) spends no query on NOTIFY.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export type StoreEvent =
  | { kind: 'enqueue'; queue: string }
  | { kind: 'task'; taskId: string; queue: string }
  | { kind: 'log'; taskId: string }
  | { kind: 'worker'; workerId: string }
  | { kind: 'apps' }
  /** An instance record changed (the console's live view); `requested`: a person asked to drain or terminate it. */
  | { kind: 'instances'; app: string; requested?: true }
  /** A journal row was written (the console's live view). */
  | { kind: 'decisions'; app: string };

const CHANNEL = 'flotilla_events';
const BEAT_MS = 10_000;

interface Message {
  origin: string;
  events?: StoreEvent[];
  /** A replica starting (the others answer "here"), still running, or stopping. */
  hello?: true;
  here?: true;
  bye?: true;
}

export class Events {
  private readonly emitter = new EventEmitter();
  private readonly origin = randomUUID();
  private listener?: pg.PoolClient;
  private stopped = false;
  /** Events waiting for the NOTIFY in flight to finish, deduplicated. */
  private readonly outbox = new Set<string>();
  private sending = false;
  /** Other replicas, by when they were last heard from. */
  private readonly peers = new Map<string, number>();
  private beat?: NodeJS.Timeout;

  constructor(private readonly pool?: pg.Pool) {
    this.emitter.setMaxListeners(0);
  }

  async start(): Promise<void> {
    if (!this.pool) return;
    this.stopped = false;
    const client = await this.pool.connect();
    this.listener = client;
    // A dropped LISTEN connection (database restart) is opened again; meanwhile the slow ticks still run.
    client.on('error', () => this.relisten(client));
    client.on('end', () => this.relisten(client));
    this.listener.on('notification', (msg) => {
      if (msg.payload) this.receive(JSON.parse(msg.payload) as Message);
    });
    await this.listener.query(`LISTEN ${CHANNEL}`);
    this.say({ hello: true });
    clearInterval(this.beat);
    this.beat = setInterval(() => this.say({ here: true }), BEAT_MS).unref();
  }

  private receive(m: Message): void {
    if (m.origin === this.origin) return;
    if (m.bye) this.peers.delete(m.origin);
    else this.peers.set(m.origin, Date.now());
    if (m.hello) this.say({ here: true });
    for (const e of m.events ?? []) this.emitLocal(e);
  }

  /** Other replicas heard from lately (one that died without a bye drops out after three missed beats). */
  peerCount(): number {
    const since = Date.now() - 3 * BEAT_MS;
    for (const [origin, at] of this.peers) if (at < since) this.peers.delete(origin);
    return this.peers.size;
  }

  private say(m: Omit<Message, 'origin'>): Promise<unknown> {
    return this.pool!.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ origin: this.origin, ...m })]).catch(() => undefined);
  }

  private relisten(client: pg.PoolClient): void {
    if (this.stopped || this.listener !== client) return;
    client.release(true);
    this.listener = undefined;
    setTimeout(() => void this.start().catch(() => this.relistenLater()), 1000).unref();
  }

  private relistenLater(): void {
    if (!this.stopped) setTimeout(() => void this.start().catch(() => this.relistenLater()), 1000).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.beat);
    if (!this.listener) return;
    // A database that cannot be reached must not hold the shutdown: the others notice after three missed beats.
    await Promise.race([this.say({ bye: true }), new Promise((r) => setTimeout(r, 1000).unref())]);
    await this.listener.query(`UNLISTEN ${CHANNEL}`).catch(() => undefined);
    this.listener.release();
    this.listener = undefined;
  }

  publish(event: StoreEvent): void {
    this.emitLocal(event);
    if (!this.pool || event.kind === 'log' || !this.peerCount()) return;
    // One NOTIFY in flight at a time; the events meanwhile wait for the next (a busy queue makes several a task).
    this.outbox.add(JSON.stringify(event));
    if (!this.sending) this.flush();
  }

  private flush(): void {
    if (!this.outbox.size) return;
    const events = [...this.outbox].map((e) => JSON.parse(e) as StoreEvent);
    this.outbox.clear();
    this.sending = true;
    const sent: Promise<unknown>[] = [];
    // NOTIFY payloads must stay under 8000 bytes.
    for (let i = 0; i < events.length; i += 30) {
      sent.push(this.say({ events: events.slice(i, i + 30) }));
    }
    void Promise.all(sent).then(() => {
      this.sending = false;
      this.flush();
    });
  }

  on(handler: (e: StoreEvent) => void): () => void {
    this.emitter.on('event', handler);
    return () => this.emitter.off('event', handler);
  }

  private emitLocal(event: StoreEvent): void {
    this.emitter.emit('event', event);
  }
}
