// Table types for Kysely. Times are epoch milliseconds; JSON columns are text in both dialects.
import type { Generated } from 'kysely';

export interface QueueTable {
  name: string;
  created_at: number;
}

export interface TaskTable {
  id: string;
  queue: string;
  name: string;
  priority: number;
  position: number;
  status: string;
  spec: string;
  attempts: number;
  max_attempts: number;
  worker_id: string | null;
  lease_id: string | null;
  lease_expires_at: number | null;
  exit_code: number | null;
  status_message: string | null;
  abort_requested: number;
  log_seq: number;
  log_bytes: number;
  created_by: string | null;
  created_at: number;
  queued_at: number;
  started_at: number | null;
  ended_at: number | null;
}

export interface TaskLogTable {
  task_id: string;
  seq: number;
  stream: string;
  text: string;
  at: number;
}

export interface WorkerTable {
  id: string;
  queues: string;
  token_id: string | null;
  app: string | null;
  resource: string | null;
  instance_id: string | null;
  current_task: string | null;
  registered_at: number;
  last_seen: number;
  idle_since: number | null;
  stopped_at: number | null;
  /** Set by a drain from the console (migration 006): the worker takes no new task. */
  draining_at: number | null;
}

export interface TokenTable {
  id: string;
  name: string;
  role: string;
  hash: string;
  /** For scoped tokens: the task or instance they are bound to. */
  scope: string | null;
  /** An agent token's binding (migration 003): the app, resource and queues (JSON array) it may register for. */
  app: string | null;
  resource: string | null;
  queues: string | null;
  expires_at: number | null;
  used_at: number | null;
  created_at: number;
}

export interface AppTable {
  name: string;
  config: string;
  created_at: number;
  updated_at: number;
}

export interface InstanceTable {
  id: string;
  app: string;
  resource: string;
  provider_id: string | null;
  state: string;
  offering: string;
  price_per_hour: number;
  launched_at: number;
  state_changed_at: number;
  ended_at: number | null;
  worker_id: string | null;
  message: string | null;
  /** Migration 005: the queue whose task caused the launch (boot and idle time are billed to it). */
  cause_queue: string | null;
  /** Migration 005: when its worker registered (its boot time ends). */
  ready_at: number | null;
  /** What a person asked from the console (migration 006): 'drain' or 'terminate'; the reconciler acts on it. */
  requested: string | null;
  /** Migration 007: set anew by every write, larger than any before it (the reconciler's census, live-instances.ts). */
  rev: Generated<number>;
}

/** Migration 005: an earlier run of a task on a worker (its last run is on the task's own row). */
export interface TaskRunTable {
  task_id: string;
  queue: string;
  worker_id: string;
  started_at: number;
  ended_at: number;
}

/** Migration 005: a budget warning already sent (once per app, period and fraction). */
export interface BudgetWarningTable {
  app: string;
  period: string;
  fraction: number;
  at: number;
}

export interface DecisionTable {
  id: Generated<number>;
  at: number;
  app: string;
  queue: string | null;
  kind: string;
  reason: string;
  detail: string;
  /** How many times this row happened (identical refusals fold into one row). */
  count: Generated<number>;
  /** When it last happened (= at for a row that happened once). */
  last_at: number | null;
}

export interface SecretTable {
  name: string;
  kind: string;
  ciphertext: string;
  created_at: number;
  updated_at: number;
}

export interface SessionTable {
  /** SHA-256 of the session id (the cookie's value); the id itself is never stored. */
  hash: string;
  token_id: string;
  created_at: number;
  expires_at: number;
}

export interface AppHistoryTable {
  app: string;
  at: number;
  /** JSON: instances by lifecycle state. */
  by_state: string;
  waiting: number;
  dollars_per_hour: number;
}

export interface Database {
  queues: QueueTable;
  tasks: TaskTable;
  task_logs: TaskLogTable;
  workers: WorkerTable;
  tokens: TokenTable;
  apps: AppTable;
  instances: InstanceTable;
  decisions: DecisionTable;
  secrets: SecretTable;
  task_runs: TaskRunTable;
  budget_warnings: BudgetWarningTable;
  sessions: SessionTable;
  app_history: AppHistoryTable;
}
