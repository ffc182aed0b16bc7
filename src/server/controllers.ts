// Background loops that must run in exactly one replica (the leader).
import type { QueueService } from '../services/queue.js';
import type { Controller } from '../domain/controller.js';

export type { Controller } from '../domain/controller.js';

/**
 * A controller that does `work` every `everyMs` (and at start, when `atStart`), one run at a time: a slow store must not
 * pile runs up behind each other. A failed run is logged as `<what> failed: …` and the next one comes as usual.
 */
export function periodic(name: string, what: string, everyMs: number, work: () => Promise<void>, log: (msg: string) => void,
  atStart = false): Controller {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      await work();
    } catch (e) {
      log(`${what} failed: ${(e as Error).message}`);
    } finally {
      running = false;
    }
  };
  return {
    name,
    start: () => {
      clearInterval(timer);
      if (atStart) void run();
      timer = setInterval(() => void run(), everyMs);
    },
    stop: () => clearInterval(timer),
  };
}

/** Puts tasks whose lease ran out back at the head of their queue (or fails them at the attempt limit). */
export function leaseSweeper(queue: QueueService, everyMs: number, log: (msg: string) => void): Controller {
  // Each task and its worker's record change in one transaction (services/queue.ts).
  return periodic('lease-sweeper', 'lease sweep', everyMs, async () => {
    for (const t of await queue.expireLeases()) log(`task ${t.id}: ${t.statusMessage}`);
  }, log);
}
