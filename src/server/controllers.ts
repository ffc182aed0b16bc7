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

/**
 * Puts tasks whose lease ran out back at the head of their queue (or fails them at the attempt limit).
 * `graceMs` (one lease TTL): a control plane that starts (a restart, a replica taking over) heard no heartbeat
 * while it was down, so leases that ran out meanwhile belong to agents that are alive and will heartbeat within
 * a TTL (a heartbeat renews a lease that ran out but was not swept). Expiring them at once handed tasks whose
 * work was done, their finish report waiting for the control plane, to a second agent: side effects ran twice.
 */
export function leaseSweeper(queue: QueueService, everyMs: number, log: (msg: string) => void, graceMs = 0,
  now: () => number = Date.now): Controller {
  let startedAt = 0;
  // Each task and its worker's record change in one transaction (services/queue.ts).
  const sweeper = periodic('lease-sweeper', 'lease sweep', everyMs, async () => {
    if (now() - startedAt < graceMs) return;
    for (const t of await queue.expireLeases()) log(`task ${t.id}: ${t.statusMessage}`);
  }, log);
  return { ...sweeper, start: () => { startedAt = now(); sweeper.start(); } };
}
