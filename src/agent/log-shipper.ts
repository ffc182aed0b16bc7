// Ships a task's output to the server in order: one batch in flight at a time, flushed often.
import type { FlotillaClient } from '../client/index.js';
import type { Stream } from './executors/types.js';
import { withRetry } from './retry.js';

const FLUSH_MS = 100;
const MAX_BATCH = 2000;

export class LogShipper {
  private pending: { stream: Stream | 'system'; text: string }[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private lost = false;

  constructor(
    private readonly client: FlotillaClient,
    private readonly taskId: string,
    private readonly leaseId: string,
    private readonly transform: (stream: Stream | 'system', text: string) => string = (_s, t) => t,
  ) {}

  write(stream: Stream | 'system', text: string): void {
    this.pending.push({ stream, text: this.transform(stream, text) });
    if (this.pending.length >= MAX_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Sends everything written so far; resolves when the server has it. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(async () => {
      while (this.pending.length && !this.lost) {
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          await withRetry(() => this.client.appendLogs(this.taskId, this.leaseId, batch), 30);
        } catch {
          this.lost = true; // lease gone: the task belongs to someone else now
        }
      }
    });
    return this.flushing;
  }
}
