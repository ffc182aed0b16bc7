// Tasks: what to run, where, and the states they pass through.
import { z } from 'zod';
import { LIMITS, bounded, boundedList } from './limits.js';

export const TASK_STATUSES = ['queued', 'scheduled', 'running', 'completed', 'failed', 'aborted'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'aborted'];

export const queueName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'use letters, digits, "_", "." and "-" (at most 128)');

const envName = z.string().max(LIMITS.name, `at most ${LIMITS.name} characters`)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and "_"');
/** An environment map: at most LIMITS.envEntries names, each value at most LIMITS.envValue characters. */
const envMap = z.record(envName, bounded(LIMITS.envValue))
  .refine((e) => Object.keys(e).length <= LIMITS.envEntries, `at most ${LIMITS.envEntries} entries`);

export const GitSpecSchema = z.object({
  repository: bounded(LIMITS.path).min(1).describe('https or ssh URL, without credentials'),
  branch: bounded(LIMITS.name).optional(),
  commit: bounded(LIMITS.name).optional(),
  entryPoint: bounded(LIMITS.path).optional().describe('script in the repository to run when no command is given'),
});

export const TaskSpecSchema = z.object({
  command: bounded(LIMITS.script).min(1).optional(),
  env: envMap.default({}),
  image: bounded(LIMITS.path).optional(),
  container: z
    .object({ env: envMap.optional(), mounts: boundedList(bounded(LIMITS.path), LIMITS.mounts).optional() })
    .optional(),
  git: GitSpecSchema.optional(),
  setupScript: bounded(LIMITS.script).optional(),
  requirementsFile: bounded(LIMITS.path).optional(),
});
export type TaskSpec = z.infer<typeof TaskSpecSchema>;

export const CreateTaskSchema = TaskSpecSchema.extend({
  queue: queueName,
  name: bounded(LIMITS.name).optional(),
  priority: z.number().int().min(-1000).max(1000).default(0),
  maxAttempts: z.number().int().min(1).max(100).default(3),
}).refine((t) => t.command || t.git?.entryPoint, {
  message: 'give a command, or a git repository with an entryPoint',
  path: ['command'],
});
export type CreateTask = z.input<typeof CreateTaskSchema>;
/** A task request that passed CreateTaskSchema (defaults filled in). */
export type ValidTask = z.output<typeof CreateTaskSchema>;

export interface Task {
  id: string;
  queue: string;
  name: string;
  priority: number;
  status: TaskStatus;
  spec: TaskSpec;
  attempts: number;
  maxAttempts: number;
  workerId: string | null;
  exitCode: number | null;
  statusMessage: string | null;
  abortRequested: boolean;
  createdAt: number;
  queuedAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

export interface Lease {
  id: string;
  expiresAt: number;
}

export interface LogLine {
  seq: number;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  at: number;
}

export interface Worker {
  id: string;
  queues: string[];
  app: string | null;
  resource: string | null;
  instanceId: string | null;
  currentTask: string | null;
  registeredAt: number;
  lastSeen: number;
  idleSince: number | null;
  status: 'idle' | 'busy' | 'offline' | 'stopped';
  /** Drained from the console: it takes no new task and is stopped once idle. */
  draining?: boolean;
}
