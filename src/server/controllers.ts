// Background loops that must run in exactly one replica (the leader).
import type { QueueService } from '../services/queue.js';
import type { Controller } from '../domain/controller.js';

export type { Controller } from '../domain/controller.js';

/** Puts tasks whose lease ran out back at the head of their queue (or fails them at the attempt limit). */
export function leaseSweeper(queue: QueueService, everyMs: number, log: (msg: string) => void): Controller {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const sweep = async () => {
    if (running) return;
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
      timer = setInterval(() => void sweep(), everyMs);
    },
    stop: () => clearInterval(timer),
  };
}
