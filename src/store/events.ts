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

  constructor(private readonly pool?: pg.Pool) {
    this.emitter.setMaxListeners(0);
  }

  async start(): Promise<void> {
    if (!this.pool) return;
    this.listener = await this.pool.connect();
    this.listener.on('notification', (msg) => {
      if (!msg.payload) return;
      const { origin, event } = JSON.parse(msg.payload) as { origin: string; event: StoreEvent };
      if (origin !== this.origin) this.emitLocal(event);
    });
    await this.listener.query(`LISTEN ${CHANNEL}`);
  }

  async stop(): Promise<void> {
    if (!this.listener) return;
    await this.listener.query(`UNLISTEN ${CHANNEL}`).catch(() => undefined);
    this.listener.release();
    this.listener = undefined;
  }

  publish(event: StoreEvent): void {
    this.emitLocal(event);
    if (this.pool && event.kind !== 'log') {
      const payload = JSON.stringify({ origin: this.origin, event });
      this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]).catch(() => undefined);
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
