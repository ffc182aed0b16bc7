// Typed HTTP client of the Flotilla API, used by the CLI, the agent and the tests.
import type { CreateTask, Lease, LogLine, Task, Worker } from '../domain/task.js';
import { send, type RawResponse } from './http.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: { field: string; message: string }[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server could not be reached at all (down, restarting): callers may retry. */
export class UnreachableError extends Error {
  constructor(readonly server: string, cause: unknown) {
    super(`cannot reach the Flotilla server at ${server}: ${networkError(cause)}. Is it running?`);
    this.name = 'UnreachableError';
    this.reason = networkError(cause);
  }
  /** The network error alone (`connect ECONNREFUSED 127.0.0.1:4000`), without the advice around it. */
  readonly reason: string;
}

/** A network error as a line: node gives an AggregateError with an empty message when every address of a name failed. */
function networkError(cause: unknown): string {
  const e = cause as (Error & { code?: string; errors?: Error[] }) | undefined;
  if (!e || typeof e !== 'object') return String(cause);
  if (e.message) return e.message;
  if (e.errors?.length) return [...new Set(e.errors.map((x) => x.message || String(x)))].join('; ');
  return e.code ?? String(e);
}

export interface QueueInfo { name: string; createdAt: number; queued: number; running: number }
export interface Dequeued { task: Task; lease: Lease }
export interface EndReport { status: 'completed' | 'failed' | 'aborted'; exitCode: number | null; message?: string }
export interface FinishedReport extends EndReport { taskId: string; leaseId: string }
export interface LogPage { lines: LogLine[]; next: number; status: string; done: boolean }
export interface AgentSettings { leaseTtlMs: number; heartbeatMs: number; maxWaitMs: number }
export interface GlueDecision {
  id: number; at: number; queue: string | null; kind: string; reason: string; detail: Record<string, unknown>;
  /** How many times it happened (repeats fold into one row), the last at lastAt. */
  count: number; lastAt: number;
}
export interface SecretInfo { name: string; kind: string; createdAt: number; updatedAt: number }
/** What an autoscaler app hands its agents: git credentials and a storage secret (see storage-credentials.ts). */
export interface WorkerSecrets { git?: { username: string; password: string; host?: string }; storage?: unknown }

const queryString = (f: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(f).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));

export class FlotillaClient {
  readonly server: string;
  constructor(server: string, private readonly token?: string) {
    this.server = server.replace(/\/+$/, '');
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: RawResponse;
    try {
      res = await send(this.server + path, method, headers, body === undefined ? undefined : JSON.stringify(body), signal);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new UnreachableError(this.server, e);
    }
    if (res.status === 204) return undefined as T;
    const data = res.text ? JSON.parse(res.text) : undefined;
    if (res.status < 200 || res.status > 299) throw new ApiError(res.status, data?.error ?? `HTTP ${res.status}`, data?.issues);
    return data as T;
  }

  // Queues
  createQueue = (name: string) => this.request<{ name: string }>('POST', '/api/v1/queues', { name });
  listQueues = async () => (await this.request<{ queues: QueueInfo[] }>('GET', '/api/v1/queues')).queues;
  deleteQueue = (name: string) => this.request<void>('DELETE', `/api/v1/queues/${encodeURIComponent(name)}`);

  // Tasks
  createTask = (t: CreateTask) => this.request<Task>('POST', '/api/v1/tasks', t);
  /** Up to 1000 tasks in one call; all are queued or none. */
  createTasks = async (tasks: CreateTask[]) => (await this.request<{ tasks: Task[] }>('POST', '/api/v1/tasks/batch', { tasks })).tasks;
  getTask = (id: string) => this.request<Task>('GET', `/api/v1/tasks/${encodeURIComponent(id)}`);
  abortTask = (id: string) => this.request<Task>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/abort`);
  async listTasks(f: { queue?: string; status?: string; limit?: number; offset?: number } = {}): Promise<Task[]> {
    return (await this.request<{ tasks: Task[] }>('GET', `/api/v1/tasks?${queryString(f)}`)).tasks;
  }
  logs = (id: string, after = 0, opts: { limit?: number; waitMs?: number } = {}) =>
    this.request<LogPage>('GET', `/api/v1/tasks/${encodeURIComponent(id)}/logs?after=${after}&limit=${opts.limit ?? 1000}&waitMs=${opts.waitMs ?? 0}`);

  // Workers
  listWorkers = async (all = false) => (await this.request<{ workers: Worker[] }>('GET', `/api/v1/workers?all=${all}`)).workers;

  // Tokens
  /** `app`: an agent token bound to that autoscaler app (it may register the app's workers and read its secrets). */
  createToken = (name: string, role: 'admin' | 'user' | 'agent', ttlSeconds?: number, o: { app?: string } = {}) =>
    this.request<{ token: string; id: string; name: string; role: string; app: string | null }>('POST', '/api/v1/tokens', { name, role, ttlSeconds, ...o });
  listTokens = async () => (await this.request<{ tokens: { id: string; name: string; role: string }[] }>('GET', '/api/v1/tokens')).tokens;

  // Secrets: values go in, never come back (except to the agents of the app that uses them)
  putSecret = (name: string, kind: string, value: unknown) =>
    this.request<{ name: string; kind: string; created: boolean }>('PUT', `/api/v1/secrets/${encodeURIComponent(name)}`, { kind, value });
  listSecrets = async () => (await this.request<{ secrets: SecretInfo[] }>('GET', '/api/v1/secrets')).secrets;
  deleteSecret = (name: string) => this.request<void>('DELETE', `/api/v1/secrets/${encodeURIComponent(name)}`);

  // Kubernetes glue (admin token)
  k8sScheduleNext = (queue: string, message: string) =>
    this.request<Task | undefined>('POST', `/api/v1/k8s/queues/${encodeURIComponent(queue)}/schedule-next`, { message });
  k8sTaskToken = (taskId: string, ttlSeconds: number) =>
    this.request<{ token: string; id: string; expiresAt: number }>('POST', `/api/v1/k8s/tasks/${encodeURIComponent(taskId)}/token`, { ttlSeconds });
  k8sSetMessage = (taskId: string, message: string) =>
    this.request<void>('POST', `/api/v1/k8s/tasks/${encodeURIComponent(taskId)}/message`, { message });
  k8sRequeue = (taskId: string, reason: string) => this.request<Task>('POST', `/api/v1/k8s/tasks/${encodeURIComponent(taskId)}/requeue`, { reason });
  k8sFail = (taskId: string, r: { status?: 'failed' | 'aborted'; message: string; exitCode?: number | null }) =>
    this.request<Task>('POST', `/api/v1/k8s/tasks/${encodeURIComponent(taskId)}/fail`, r);
  k8sTasks = (queues: string[]) =>
    this.request<{ tasks: Task[]; digest: string }>('GET', `/api/v1/k8s/tasks?queues=${encodeURIComponent(queues.join(','))}`);
  k8sWait = (body: { queues: string[]; ready: string[]; digest?: string; waitMs: number }, signal?: AbortSignal) =>
    this.request<{ woke: boolean }>('POST', '/api/v1/k8s/wait', body, signal);
  k8sJournal = (row: { queue: string | null; kind: string; reason: string; detail?: Record<string, unknown> }) =>
    this.request<void>('POST', '/api/v1/k8s/journal', row);
  k8sJournalRows = async (f: { queue?: string; limit?: number } = {}) =>
    (await this.request<{ decisions: GlueDecision[] }>('GET', `/api/v1/k8s/journal?${queryString(f)}`)).decisions;
  revokeToken = (id: string) => this.request<void>('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);

  // Agent side
  workerSecrets = (workerId: string) => this.request<WorkerSecrets>('GET', `/api/v1/workers/${encodeURIComponent(workerId)}/secrets`);
  register = (w: { id: string; queues: string[]; app?: string; resource?: string; instanceId?: string }) =>
    this.request<{ worker: Worker; settings: AgentSettings }>('POST', '/api/v1/workers', w);
  /** With `finished`, reports the end of the task the worker held first (a 409 if that lease is stale, and nothing is taken). */
  dequeue = (workerId: string, body: { queues?: string[]; taskId?: string; waitMs: number; finished?: FinishedReport }, signal?: AbortSignal) =>
    this.request<Dequeued | undefined>('POST', `/api/v1/workers/${encodeURIComponent(workerId)}/dequeue`, body, signal);
  stopWorker = (workerId: string) => this.request<void>('POST', `/api/v1/workers/${encodeURIComponent(workerId)}/stop`, {});
  /** The cloud announced this worker's machine goes (notice) or should be left (rebalance): spot. */
  reportInterruption = (workerId: string, r: InterruptionReport) =>
    this.request<{ instance: string | null; state: string | null }>('POST', `/api/v1/workers/${encodeURIComponent(workerId)}/interruption`, r);
  heartbeat = (taskId: string, leaseId: string) =>
    this.request<{ abort: boolean; leaseExpiresAt: number }>('POST', `/api/v1/tasks/${taskId}/lease/heartbeat`, { leaseId });
  /** Answers {abort: true} as soon as the task is aborted, else {abort: false} after waitMs (409: the lease is stale). */
  waitAbort = (taskId: string, leaseId: string, waitMs: number, signal?: AbortSignal) =>
    this.request<{ abort: boolean }>('POST', `/api/v1/tasks/${taskId}/lease/wait-abort`, { leaseId, waitMs }, signal);
  appendLogs = (taskId: string, leaseId: string, lines: { stream: string; text: string }[]) =>
    this.request<{ accepted: number }>('POST', `/api/v1/tasks/${taskId}/lease/logs`, { leaseId, lines });
  finish = (taskId: string, leaseId: string, r: EndReport) =>
    this.request<Task>('POST', `/api/v1/tasks/${taskId}/lease/finish`, { leaseId, ...r });
  release = (taskId: string, leaseId: string, reason: string) =>
    this.request<Task>('POST', `/api/v1/tasks/${taskId}/lease/release`, { leaseId, reason });
}

export interface InterruptionReport {
  kind: 'notice' | 'rebalance';
  source: 'aws' | 'gcp';
  /** What the cloud will do (terminate, stop, hibernate, preempt), with a notice. */
  action?: string;
  /** When the machine goes (epoch ms), with a notice. */
  at?: number;
}
