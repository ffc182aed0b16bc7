// Ships a task's output to the server in order: one batch in flight at a time, flushed often.
import { ApiError, type FlotillaClient } from '../client/index.js';
import type { Stream } from './executors/types.js';
import { withRetry } from './retry.js';
import { LIMITS } from '../domain/limits.js';

const FLUSH_MS = 100;
const MAX_BATCH = 2000;

type LogStream = Stream | 'system';

/**
 * Rewrites output before it leaves the machine (secret masking). A transform may hold back the end
 * of a chunk (it could be the start of a secret); flush() returns what it held when the output ends.
 */
export type OutputTransform = ((stream: LogStream, text: string) => string) & {
  flush?(): { stream: LogStream; text: string }[];
  /** Masks one whole text (the agent's own log lines, which name tasks by their command). */
  mask?(text: string): string;
};

export class LogShipper {
  private pending: { stream: Stream | 'system'; text: string }[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private lost = false;

  constructor(
    private readonly client: FlotillaClient,
    private readonly taskId: string,
    private readonly leaseId: string,
    private readonly transform: OutputTransform = (_s, t) => t,
  ) {}

  write(stream: Stream | 'system', text: string): void {
    const safe = this.transform(stream, text);
    if (!safe) return; // all of it held back (or nothing to send)
    // The API takes at most LIMITS.logText characters per text: longer output goes in pieces.
    for (let i = 0; i < safe.length; i += LIMITS.logText) this.pending.push({ stream, text: safe.slice(i, i + LIMITS.logText) });
    if (this.pending.length >= MAX_BATCH) void this.send();
    else this.timer ??= setTimeout(() => void this.send(), FLUSH_MS);
  }

  /** Sends everything written so far, including what the transform held back; resolves when the server has it. */
  flush(): Promise<void> {
    this.pending.push(...(this.transform.flush?.() ?? []));
    return this.send();
  }

  private send(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(async () => {
      while (this.pending.length && !this.lost) {
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          await withRetry(() => this.client.appendLogs(this.taskId, this.leaseId, batch), 30);
        } catch (e) {
          // Refused (a 4xx other than a lost lease) is never retried: that batch is dropped, the next is sent.
          // Anything else (lease gone, or the control plane failing for ~2 minutes): nothing more is sent.
          if (e instanceof ApiError && e.status >= 400 && e.status < 500 && ![404, 409, 410].includes(e.status)) continue;
          this.lost = true; // lease gone: the task belongs to someone else now
        }
      }
    });
    return this.flushing;
  }
}
