// The stored records that money is computed from (services/costs.ts): instances that ran in a window, the workers
// they ran, and every run of a task on those workers (earlier runs in task_runs, the last one on the task's row).
// Also the budget warnings already sent.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { toInstance, type InstanceRecord } from './apps.js';

export interface RunRecord {
  taskId: string;
  taskName: string;
  queue: string;
  workerId: string;
  startedAt: number;
  /** Null while it runs. */
  endedAt: number | null;
}

const chunks = <T>(xs: T[], n = 500): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

export class CostRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Instances that existed at some time in [from, to) (a launch that never made a machine is not billed). */
  async instancesIn(from: number, to: number, app?: string): Promise<InstanceRecord[]> {
    let q = this.db.selectFrom('instances').selectAll().where('launched_at', '<', to)
      .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>', from)]))
      .where((eb) => eb.not(eb.and([eb('state', '=', 'failed'), eb('provider_id', 'is', null)])));
    if (app) q = q.where('app', '=', app);
    return (await q.orderBy('launched_at').execute()).map(toInstance);
  }

  /** Worker id → instance id, for the workers these instances ran (registered under the record id or the cloud's id). */
  async workersOf(instances: InstanceRecord[]): Promise<Map<string, string>> {
    const byKey = new Map<string, string>();
    for (const i of instances) {
      byKey.set(i.id, i.id);
      if (i.providerId) byKey.set(i.providerId, i.id);
    }
    const out = new Map<string, string>();
    for (const i of instances) if (i.workerId) out.set(i.workerId, i.id);
    for (const keys of chunks([...byKey.keys()])) {
      const rows = await this.db.selectFrom('workers').select(['id', 'instance_id']).where('instance_id', 'in', keys).execute();
      for (const r of rows) out.set(r.id, byKey.get(r.instance_id!)!);
    }
    return out;
  }

  /** Every run on these workers that overlaps [from, to). */
  async runsOn(workerIds: string[], from: number, to: number): Promise<RunRecord[]> {
    const out: RunRecord[] = [];
    for (const ids of chunks(workerIds)) {
      if (!ids.length) continue;
      const earlier = await this.db.selectFrom('task_runs as r').innerJoin('tasks as t', 't.id', 'r.task_id')
        .select(['r.task_id', 't.name', 'r.queue', 'r.worker_id', 'r.started_at', 'r.ended_at'])
        .where('r.worker_id', 'in', ids).where('r.started_at', '<', to).where('r.ended_at', '>', from).execute();
      for (const r of earlier) out.push({ taskId: r.task_id, taskName: r.name, queue: r.queue, workerId: r.worker_id, startedAt: r.started_at, endedAt: r.ended_at });
      const last = await this.db.selectFrom('tasks').select(['id', 'name', 'queue', 'worker_id', 'started_at', 'ended_at'])
        .where('worker_id', 'in', ids).where('started_at', 'is not', null).where('started_at', '<', to)
        .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>', from)])).execute();
      for (const r of last) out.push({ taskId: r.id, taskName: r.name, queue: r.queue, workerId: r.worker_id!, startedAt: r.started_at!, endedAt: r.ended_at });
    }
    return out;
  }

  /** Every run of one task: its earlier runs and its last. */
  async runsOf(taskId: string): Promise<RunRecord[]> {
    const earlier = await this.db.selectFrom('task_runs as r').innerJoin('tasks as t', 't.id', 'r.task_id')
      .select(['r.task_id', 't.name', 'r.queue', 'r.worker_id', 'r.started_at', 'r.ended_at']).where('r.task_id', '=', taskId).execute();
    const last = await this.db.selectFrom('tasks').select(['id', 'name', 'queue', 'worker_id', 'started_at', 'ended_at'])
      .where('id', '=', taskId).where('worker_id', 'is not', null).where('started_at', 'is not', null).execute();
    return [
      ...earlier.map((r) => ({ taskId: r.task_id, taskName: r.name, queue: r.queue, workerId: r.worker_id, startedAt: r.started_at, endedAt: r.ended_at })),
      ...last.map((r) => ({ taskId: r.id, taskName: r.name, queue: r.queue, workerId: r.worker_id!, startedAt: r.started_at!, endedAt: r.ended_at })),
    ];
  }

  /** The instance a worker ran on, if an autoscaler app launched it. */
  async instanceOfWorker(workerId: string): Promise<InstanceRecord | undefined> {
    const w = await this.db.selectFrom('workers').select('instance_id').where('id', '=', workerId).executeTakeFirst();
    let q = this.db.selectFrom('instances').selectAll();
    q = w?.instance_id
      ? q.where((eb) => eb.or([eb('id', '=', w.instance_id!), eb('provider_id', '=', w.instance_id!), eb('worker_id', '=', workerId)]))
      : q.where('worker_id', '=', workerId);
    const r = await q.executeTakeFirst();
    return r ? toInstance(r) : undefined;
  }

  /** Durations (ms) of the latest completed tasks of these queues, newest first. */
  async recentDurations(queues: string[], limit = 50): Promise<number[]> {
    if (!queues.length) return [];
    const rows = await this.db.selectFrom('tasks').select(['started_at', 'ended_at']).where('queue', 'in', queues)
      .where('status', '=', 'completed').where('started_at', 'is not', null).orderBy('ended_at', 'desc').limit(limit).execute();
    return rows.map((r) => Number(r.ended_at) - Number(r.started_at));
  }

  /** Records a budget warning; true when it was not sent before (each app, period and fraction once). */
  async warnOnce(app: string, period: string, fraction: number, at: number): Promise<boolean> {
    const r = await this.db.insertInto('budget_warnings').values({ app, period, fraction, at })
      .onConflict((oc) => oc.columns(['app', 'period', 'fraction']).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async warningsSent(): Promise<{ app: string; period: string; fraction: number }[]> {
    return this.db.selectFrom('budget_warnings').select(['app', 'period', 'fraction']).execute();
  }
}
