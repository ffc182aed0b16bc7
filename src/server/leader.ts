// Controllers run in one replica only. PostgreSQL: a session advisory lock held on a dedicated
// connection (lost with the connection, so a dead leader frees it). SQLite: the one process leads.
import type pg from 'pg';

const LOCK_KEY = 0x466c6f74; // "Flot"

export class Leadership {
  private client?: pg.PoolClient;
  private timer?: NodeJS.Timeout;
  leader = false;

  constructor(private readonly pool: pg.Pool | undefined, private readonly onChange: (leader: boolean) => void) {}

  async start(retryMs = 2000): Promise<void> {
    if (!this.pool) return this.set(true);
    await this.tryAcquire();
    this.timer = setInterval(() => void this.tryAcquire(), retryMs);
  }

  private async tryAcquire(): Promise<void> {
    if (this.leader) return;
    try {
      this.client ??= await this.pool!.connect();
      const r = await this.client.query('SELECT pg_try_advisory_lock($1) AS ok', [LOCK_KEY]);
      if (r.rows[0].ok) this.set(true);
    } catch {
      this.client?.release(true);
      this.client = undefined;
    }
  }

  private set(v: boolean) {
    if (this.leader === v) return;
    this.leader = v;
    this.onChange(v);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.client) {
      await this.client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      this.client.release();
    }
    this.set(false);
  }
}
