// The calls of ClearML's API that clearml-agent makes in its loop, translated onto the queue service (every change
// of a task or a worker) and the stores (reads). Nothing here writes a task or worker row itself.
import type { Store } from '../store/index.js';
import type { TokenInfo } from '../store/tokens.js';
import type { QueueService } from '../services/queue.js';
import type { Task } from '../domain/task.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { isBound, outOfScope } from '../domain/agent-scope.js';
import { ClearmlError } from './envelope.js';
import { fromClearmlId, toClearmlId } from './ids.js';
import { onlyFields, taskView } from './task-view.js';

export interface Deps { store: Store; queue: QueueService }

export interface Call {
  body: Record<string, any>;
  auth: TokenInfo;
  /** The worker the agent says it is (header X-ClearML-Worker). */
  worker: string | undefined;
  /** Secrets to mask in log lines: the session token of this call. */
  secrets: string[];
}

type Handler = (d: Deps, c: Call) => Promise<unknown>;

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);
const badRequest = (msg: string, subcode = 0) => new ClearmlError(400, subcode, msg);
const forbidden = (msg: string) => new ClearmlError(403, 0, msg);
const WRITERS = new Set(['agent', 'admin']);

function str(c: Call, field: string): string {
  const v = c.body[field];
  if (typeof v !== 'string' || !v) throw badRequest(`${field}: required, a string (validation error)`, 11);
  return v;
}

function needWriter(c: Call): void {
  if (!WRITERS.has(c.auth.role)) throw forbidden(`a ${c.auth.role} token may only read through the ClearML API; agents need an agent token`);
}

function needWorker(c: Call): string {
  const w = (typeof c.body.worker === 'string' && c.body.worker) || c.worker;
  if (!w) throw badRequest('worker: required (the X-ClearML-Worker header or the worker field)', 11);
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(w)) throw badRequest(`worker "${w}": use letters, digits and _.:- (at most 128)`, 11);
  return w;
}

/** An agent token acts only for workers it registered (an admin for any). */
async function ownWorker(d: Deps, c: Call, workerId: string) {
  const id = await d.store.workers.identity(workerId);
  if (id && c.auth.role !== 'admin' && id.tokenId !== c.auth.id) throw forbidden(`worker "${workerId}" was registered with another token`);
  return id;
}

async function getTask(d: Deps, cid: string): Promise<Task> {
  try {
    return await d.store.tasks.get(fromClearmlId(cid));
  } catch (e) {
    if (e instanceof NotFoundError) throw badRequest(`Invalid task id: id=${cid} (no such Flotilla task)`, 100);
    throw e;
  }
}

/** Users and admins read any task; an agent token the tasks its workers hold or held. */
async function mayRead(d: Deps, c: Call, t: Task): Promise<boolean> {
  if (c.auth.role !== 'agent') return true;
  if (!t.workerId) return false;
  return (await d.store.workers.identity(t.workerId))?.tokenId === c.auth.id;
}

/** The running task, with its lease, held by a worker of this token; a ClearML "invalid status" otherwise. */
async function held(d: Deps, c: Call, cid: string): Promise<{ task: Task; leaseId: string; workerId: string }> {
  needWriter(c);
  const task = await getTask(d, cid);
  const h = await d.store.tasks.holder(task.id);
  if (!h) throw badRequest(`Invalid task status: task ${cid} is ${task.status} in Flotilla, not running` +
    (task.status === 'queued' ? ' (an agent takes it with queues.get_next_task)' : ''), 110);
  await ownWorker(d, c, h.workerId);
  return { task, ...h };
}

/** The agent proved it is alive and still runs the task: its lease is extended, its worker seen. */
async function keepAlive(d: Deps, c: Call, taskId: string): Promise<void> {
  const h = await d.store.tasks.holder(taskId);
  if (!h) return;
  const id = await d.store.workers.identity(h.workerId);
  if (c.auth.role !== 'admin' && id?.tokenId !== c.auth.id) return;
  await d.queue.heartbeat(taskId, h.leaseId).catch((e) => { if (!(e instanceof ConflictError)) throw e; });
  await d.queue.seen(h.workerId);
}

/**
 * A worker of this token says it runs `taskId` (a status report, a log event): when another of the token's workers
 * holds it (get_next_task had to guess, see pickWorker), the task is handed over to the one that runs it.
 */
async function claim(d: Deps, c: Call, workerId: string, taskId: string): Promise<void> {
  const h = await d.store.tasks.holder(taskId);
  if (!h || h.workerId === workerId) return;
  const [from, to] = await Promise.all([d.store.workers.identity(h.workerId), d.store.workers.identity(workerId)]);
  if (!to || from?.tokenId !== c.auth.id || to.tokenId !== c.auth.id) return;
  await d.queue.handOver(taskId, h.leaseId, workerId).catch((e) => { if (!(e instanceof ConflictError)) throw e; });
}

/**
 * Which worker asks for a task. clearml-agent names its worker in register and status_report but not in
 * get_next_task, whose only clue is the X-ClearML-Worker header, the host name: the worker of that id if this
 * token registered one, else an idle one of the token's workers serving the queue (the agent's next report
 * corrects a wrong guess, see claim), else a new worker named after the header.
 */
async function pickWorker(d: Deps, c: Call, queue: string): Promise<string> {
  const header = needWorker(c);
  const mine = await d.store.workers.ofToken(c.auth.id);
  if (mine.some((w) => w.id === header)) return header;
  const idle = mine.filter((w) => !w.currentTask && w.queues.includes(queue));
  if (idle.length) return idle.reduce((a, b) => (a.lastSeen <= b.lastSeen ? a : b)).id;
  if (await d.store.workers.identity(header)) return header; // another token's: ownWorker refuses it
  await register(d, c, header, [queue]);
  return header;
}

const updated = (t: Task) => ({ updated: 1, fields: { status: t.status, status_message: t.statusMessage ?? '' } });

async function queueView(d: Deps, name: string, createdAt: number, withEntries: boolean) {
  const entries = withEntries
    ? (await d.store.tasks.list({ queue: name, status: 'queued', limit: 1000 })).map((t) => ({ task: toClearmlId(t.id), added: iso(t.queuedAt) }))
    : undefined;
  return { id: name, name, created: iso(createdAt), user: 'flotilla', company: 'flotilla', tags: [], system_tags: [],
    ...(entries ? { entries } : {}) };
}

/** ClearML matches names as case-insensitive regular expressions (the agent sends re.escape(name)). */
function nameMatcher(pattern: unknown): ((name: string) => boolean) | null {
  if (typeof pattern !== 'string' || !pattern) return null;
  try {
    const re = new RegExp(pattern, 'i');
    return (n) => re.test(n);
  } catch {
    const lit = pattern.replace(/\\(.)/g, '$1').toLowerCase();
    return (n) => n.toLowerCase().includes(lit);
  }
}

const idList = (v: unknown): string[] | null => (v === undefined || v === null ? null : (Array.isArray(v) ? v : [v]).map(String));

export const ENDPOINTS: Record<string, Handler> = {
  // ---- queues ----
  'queues.get_all': async (d, c) => {
    const ids = idList(c.body.id);
    const match = nameMatcher(c.body.name);
    const fields = c.body.only_fields;
    const withEntries = !Array.isArray(fields) || fields.some((f) => String(f).startsWith('entries'));
    const queues = (await d.store.queues.list()).filter((q) => (!ids || ids.includes(q.name)) && (!match || match(q.name)));
    return { queues: await Promise.all(queues.map(async (q) => onlyFields(await queueView(d, q.name, q.createdAt, withEntries), fields))) };
  },
  'queues.get_default': async (d) => {
    const q = (await d.store.queues.list()).find((x) => x.name === 'default');
    if (!q) throw badRequest('no default queue: name the queue (clearml-agent daemon --queue NAME) or create a Flotilla queue named "default"', 703);
    return queueView(d, q.name, q.createdAt, false);
  },
  'queues.get_by_id': async (d, c) => {
    const id = str(c, 'queue');
    const q = (await d.store.queues.list()).find((x) => x.name === id);
    if (!q) throw badRequest(`Invalid queue id: id=${id} (no such Flotilla queue)`, 701);
    return { queue: await queueView(d, q.name, q.createdAt, true) };
  },
  'queues.get_next_task': async (d, c) => {
    needWriter(c);
    const queue = str(c, 'queue');
    const workerId = await pickWorker(d, c, queue);
    const identity = await ownWorker(d, c, workerId);
    if (isBound(c.auth) && identity && !identity.queues.includes(queue))
      throw forbidden(`queue "${queue}" is out of this worker's scope: it registered for ${identity.queues.map((q) => `"${q}"`).join(', ')}`);
    const got = await d.queue.take(workerId, { queues: [queue] });
    if (!got) {
      await d.queue.seen(workerId);
      return {};
    }
    return { entry: { task: toClearmlId(got.task.id), added: iso(got.task.queuedAt) },
      ...(c.body.get_task_info ? { task_info: { user: 'flotilla', company: 'flotilla' } } : {}) };
  },

  // ---- workers ----
  'workers.register': async (d, c) => {
    needWriter(c);
    await register(d, c, needWorker(c), idList(c.body.queues) ?? []);
    return {};
  },
  'workers.unregister': async (d, c) => {
    needWriter(c);
    const workerId = needWorker(c);
    if (await ownWorker(d, c, workerId)) await d.queue.stopWorker(workerId);
    return {};
  },
  'workers.status_report': async (d, c) => {
    needWriter(c);
    const workerId = needWorker(c);
    if (!(await ownWorker(d, c, workerId))) return {};
    await d.queue.seen(workerId);
    const task = typeof c.body.task === 'string' ? fromClearmlId(c.body.task) : null;
    if (task) {
      await claim(d, c, workerId, task);
      await keepAlive(d, c, task);
    }
    return {};
  },
  'workers.get_all': async (d) => {
    const workers = await d.store.workers.list(false);
    const names = new Map<string, string>();
    for (const w of workers) if (w.currentTask) names.set(w.currentTask, (await d.store.tasks.get(w.currentTask).catch(() => null))?.name ?? '');
    return {
      workers: workers.map((w) => ({
        id: w.id, key: w.id, user: { id: 'flotilla', name: 'flotilla' }, company: { id: 'flotilla', name: 'flotilla' },
        register_time: iso(w.registeredAt), last_activity_time: iso(w.lastSeen), last_report_time: iso(w.lastSeen),
        queues: w.queues.map((q) => ({ id: q, name: q })),
        task: w.currentTask ? { id: toClearmlId(w.currentTask), name: names.get(w.currentTask) ?? '' } : null,
        tags: [], system_tags: [],
      })),
    };
  },
  'workers.get_runtime_properties': async () => ({ runtime_properties: [] }),
  'workers.set_runtime_properties': async () => ({}),

  // ---- tasks ----
  'tasks.get_by_id': async (d, c) => {
    const t = await getTask(d, str(c, 'task'));
    if (!(await mayRead(d, c, t))) throw badRequest(`Invalid task id: id=${c.body.task} (not a task of this token's workers)`, 100);
    await keepAlive(d, c, t.id);
    return { task: taskView(t) };
  },
  'tasks.get_all': async (d, c) => {
    const ids = idList(c.body.id);
    if (!ids) throw badRequest('id: required: Flotilla answers tasks.get_all for given task ids only', 11);
    const out = [];
    for (const cid of ids) {
      const t = await d.store.tasks.get(fromClearmlId(cid)).catch((e) => { if (e instanceof NotFoundError) return null; throw e; });
      if (!t || !(await mayRead(d, c, t))) continue;
      // The agent asks for its running task's status every 5 s: the liveness of that task's run.
      await keepAlive(d, c, t.id);
      out.push(onlyFields(taskView(t), c.body.only_fields));
    }
    return { tasks: out };
  },
  'tasks.started': async (d, c) => {
    const h = await held(d, c, str(c, 'task'));
    await d.queue.heartbeat(h.task.id, h.leaseId);
    return { updated: 1, fields: { status: 'in_progress' }, started: 1 };
  },
  'tasks.ping': async (d, c) => {
    const h = await held(d, c, str(c, 'task'));
    await d.queue.heartbeat(h.task.id, h.leaseId);
    await d.queue.seen(h.workerId);
    return {};
  },
  // The agent's execute makes sure the task is out of its queue: taken by get_next_task, it already is.
  'tasks.dequeue': async () => ({ updated: 0, fields: {} }),
  // Run-time notes (host name, container defaults) and the frozen requirements are not kept.
  'tasks.edit': async (d, c) => ((await held(d, c, str(c, 'task'))), { updated: 1, fields: {} }),
  'tasks.set_requirements': async (d, c) => ((await held(d, c, str(c, 'task'))), { updated: 1, fields: {} }),
  'tasks.get_hyper_params': async (d, c) => ({ params: (idList(c.body.tasks) ?? []).map((t) => ({ task: t, hyperparams: [] })) }),
  'tasks.completed': async (d, c) => {
    const h = await held(d, c, str(c, 'task'));
    return updated(await d.queue.finish(h.task.id, h.leaseId, { status: 'completed', exitCode: 0 }, h.workerId));
  },
  'tasks.failed': async (d, c) => {
    const h = await held(d, c, str(c, 'task'));
    const reason = typeof c.body.status_reason === 'string' ? c.body.status_reason : '';
    const code = /exit code (-?\d+)/.exec(reason);
    return updated(await d.queue.finish(h.task.id, h.leaseId,
      { status: 'failed', exitCode: code ? Number(code[1]) : null, message: reason.slice(0, 1000) || undefined }, h.workerId));
  },
  'tasks.stopped': async (d, c) => {
    const h = await held(d, c, str(c, 'task'));
    // Aborted in Flotilla: it ends aborted. Stopped by its agent on its own (Ctrl-C, SIGTERM): back to its queue,
    // as when Flotilla's own agent stops.
    if (h.task.abortRequested)
      return updated(await d.queue.finish(h.task.id, h.leaseId, { status: 'aborted', exitCode: null, message: 'aborted by user; stopped by its ClearML agent' }, h.workerId));
    return updated(await d.queue.release(h.task.id, h.leaseId, 'its ClearML agent stopped'));
  },

  // ---- events ----
  'events.add_batch': async (d, c) => {
    needWriter(c);
    const events = Array.isArray(c.body.events) ? c.body.events : [];
    const byTask = new Map<string, string[]>();
    const claims = new Map<string, string>();
    let errors = 0;
    for (const e of events) {
      if (e?.type !== 'log' || typeof e.task !== 'string' || typeof e.msg !== 'string') { errors++; continue; }
      if (typeof e.worker === 'string' && e.worker) claims.set(e.task, e.worker);
      const list = byTask.get(e.task) ?? byTask.set(e.task, []).get(e.task)!;
      list.push(mask(e.msg, c.secrets));
    }
    for (const [cid, worker] of claims) await claim(d, c, worker, fromClearmlId(cid));
    let added = 0;
    for (const [cid, lines] of byTask) {
      const h = await held(d, c, cid).catch((e) => { if (e instanceof ClearmlError) return null; throw e; });
      // Lines of a task that ended meanwhile (the agent's last words after tasks.completed) are dropped, not refused.
      if (!h) { errors += lines.length; continue; }
      const r = await d.store.logs.append(h.task.id, h.leaseId, lines.map((text) => ({ stream: 'stdout' as const, text })))
        .catch((e) => { if (e instanceof ConflictError) return { accepted: 0 }; throw e; });
      added += r.accepted;
      errors += lines.length - r.accepted;
    }
    return { added, errors, errors_info: {} };
  },

  // ---- users ----
  'users.get_vaults': async () => ({ total: 0, vaults: [] }),
};

async function register(d: Deps, c: Call, workerId: string, queues: string[]): Promise<void> {
  const appCfg = c.auth.role !== 'admin' && c.auth.app !== null && c.auth.queues === null
    ? await d.store.apps.get(c.auth.app).catch((e) => { if (e instanceof NotFoundError) return null; throw e; }) : null;
  const refused = outOfScope(c.auth, { id: workerId, queues }, appCfg);
  if (refused) throw forbidden(refused);
  try {
    await d.queue.register({ id: workerId, queues, tokenId: c.auth.id });
  } catch (e) {
    if (e instanceof ConflictError) throw new ClearmlError(409, 0, e.message);
    throw e;
  }
}

/** The session token (and any other secret of the call) never reaches a task's log. */
function mask(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('********');
  return out;
}
