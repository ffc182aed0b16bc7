// The engine's view of a job and an instance, shared by the engine and its books (kept apart so the
// books need not import the engine that imports them).
import type { InstanceView } from '../domain/autoscaler/policy.js';

export interface SimJob {
  id: string;
  queue: string;
  submit: number; // ms
  duration: number; // ms
  started?: number; // ms of its first start
  runStart?: number; // ms its current run began
  saved?: number; // ms of its work kept by checkpoints before an interruption
  interruptedAt?: number; // ms it was last handed back by an interruption, until it runs again
}

export interface SimInstance extends InstanceView {
  price: number;
  live: boolean;
  job: SimJob | null;
  readyAt: number;
  serves: readonly string[]; // queues listing this instance's resource
  idleSeq: number;
}
