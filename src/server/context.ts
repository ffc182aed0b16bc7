// What every route group gets: the store, the settings and the registry of routes.
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/index.js';
import type { QueueService } from '../services/queue.js';
import type { AnyRoute } from './route.js';
import type { Metrics } from './metrics.js';
import type { LiveHub } from './live.js';

export interface ServerSettings {
  leaseTtlMs: number;
  /** Longest a dequeue long poll may wait. */
  maxWaitMs: number;
  /** How often an agent should heartbeat its lease. */
  heartbeatMs: number;
  version: string;
}

export interface ServerCtx {
  app: FastifyInstance;
  store: Store;
  /** Every change of a task and of its worker's record goes through it (routes read from the store). */
  queue: QueueService;
  settings: ServerSettings;
  routes: AnyRoute[];
  metrics: Metrics;
  /** The console's live stream (Server-Sent Events). */
  live: LiveHub;
  /** Aborted when the server starts closing: long polls answer at once instead of holding it open. */
  closing: AbortSignal;
}

export type RouteGroup = (ctx: ServerCtx) => void;
