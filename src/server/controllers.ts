// Background loops that must run in exactly one replica (the leader).
import type { QueueService } from '../services/queue.js';
import type { Controller } from '../domain/controller.js';

export type { Controller } from '../domain/controller.js';

/** Puts tasks whose lease ran out back at the head of their queue (or fails them at the attempt limit). */
/**
 * `graceMs` (one lease TTL): a control plane that starts (a restart, a replica taking over) heard no heartbeat
 * while it was down, so leases that ran out meanwhile belong to agents that are alive and will heartbeat within
 * a TTL (a heartbeat renews a lease that ran out but was not swept). Expiring them at once handed tasks whose
 * work was done, their finish report waiting for the control plane, to a second agent: side effects ran twice.
 */
export function leaseSweeper(queue: QueueService, everyMs: number, log: (msg: string) => void, graceMs = 0,
  now: () => number = Date.now): Controller {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let startedAt = 0;
  const sweep = async () => {
    if (running || now() - startedAt < graceMs) return;
    running = true;
    try {
      // Each task and its worker's record change in one transaction (services/queue.ts).
      for (const t of await queue.expireLeases()) log(`task ${t.id}: ${t.statusMessage}`);
    } catch (e) {
      log(`lease sweep failed: ${(e as Error).message}`);
    } finally {
      running = false;
    }
  };
  return {
    name: 'lease-sweeper',
    start: () => {
      startedAt = now();
      timer = setInterval(() => void sweep(), everyMs);
    },
    stop: () => clearInterval(timer),
  };
}
