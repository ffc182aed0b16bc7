// Prometheus metrics, one registry per server so tests can run several servers in one process.
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/index.js';
import type { Task } from '../domain/task.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly startWait: Histogram;

  constructor(store: Store) {
    collectDefaultMetrics({ register: this.registry });
    this.startWait = new Histogram({
      name: 'flotilla_dequeue_wait_seconds',
      help: 'Time from a task being queued to an agent taking it',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
      registers: [this.registry],
    });
    const depth = new Gauge({
      name: 'flotilla_queue_depth', help: 'Tasks waiting in each queue', labelNames: ['queue'], registers: [this.registry],
      collect: async () => {
        depth.reset();
        for (const q of await store.queues.list()) depth.set({ queue: q.name }, q.queued);
      },
    });
    const byState = new Gauge({
      name: 'flotilla_tasks', help: 'Tasks by queue and state', labelNames: ['queue', 'status'], registers: [this.registry],
      collect: async () => {
        byState.reset();
        for (const r of await store.tasks.countByQueueAndStatus()) byState.set({ queue: r.queue, status: r.status }, r.n);
      },
    });
  }

  observeStart(task: Task): void {
    this.startWait.observe(Math.max(0, Date.now() - task.queuedAt) / 1000);
  }
}
