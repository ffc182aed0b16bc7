// Wake-ups between parts of the control plane: an enqueue wakes waiting agents and reconcilers,
// a log line wakes followers. PostgreSQL's LISTEN/NOTIFY carries them to the other replicas.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export type StoreEvent =
  | { kind: 'enqueue'; queue: string }
  | { kind: 'task'; taskId: string; queue: string }
  | { kind: 'log'; taskId: string }
  | { kind: 'worker'; workerId: string }
  | { kind: 'apps' };

const CHANNEL = 'flotilla_events';

export class Events {
  private readonly emitter = new EventEmitter();
  private readonly origin = randomUUID();
  private listener?: pg.PoolClient;
  private stopped = false;
  /** Events to send to other replicas at the end of this tick, deduplicated. */
  private readonly outbox = new Set<string>();

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
      if (!msg.payload) return;
      const { origin, events } = JSON.parse(msg.payload) as { origin: string; events: StoreEvent[] };
      if (origin !== this.origin) for (const e of events) this.emitLocal(e);
    });
    await this.listener.query(`LISTEN ${CHANNEL}`);
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
    if (!this.listener) return;
    await this.listener.query(`UNLISTEN ${CHANNEL}`).catch(() => undefined);
    this.listener.release();
    this.listener = undefined;
  }

  publish(event: StoreEvent): void {
    this.emitLocal(event);
    if (!this.pool || event.kind === 'log') return;
    // Other replicas get the events of one tick in one NOTIFY (a busy queue makes many per tick).
    this.outbox.add(JSON.stringify(event));
    if (this.outbox.size === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const events = [...this.outbox].map((e) => JSON.parse(e) as StoreEvent);
    this.outbox.clear();
    // NOTIFY payloads must stay under 8000 bytes.
    for (let i = 0; i < events.length; i += 30) {
      const payload = JSON.stringify({ origin: this.origin, events: events.slice(i, i + 30) });
      this.pool!.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]).catch(() => undefined);
    }
  }

  on(handler: (e: StoreEvent) => void): () => void {
    this.emitter.on('event', handler);
    return () => this.emitter.off('event', handler);
  }

  private emitLocal(event: StoreEvent): void {
    this.emitter.emit('event', event);
  }
}
