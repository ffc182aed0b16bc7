// Tasks: what to run, where, and the states they pass through.
import { z } from 'zod';

export const TASK_STATUSES = ['queued', 'scheduled', 'running', 'completed', 'failed', 'aborted'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'aborted'];

export const queueName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'use letters, digits, "_", "." and "-" (at most 128)');

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and "_"');

export const GitSpecSchema = z.object({
  repository: z.string().min(1).describe('https or ssh URL, without credentials'),
  branch: z.string().optional(),
  commit: z.string().optional(),
  entryPoint: z.string().optional().describe('script in the repository to run when no command is given'),
});

export const TaskSpecSchema = z.object({
  command: z.string().min(1).optional(),
  env: z.record(envName, z.string()).default({}),
  image: z.string().optional(),
  container: z
    .object({ env: z.record(envName, z.string()).optional(), mounts: z.array(z.string()).optional() })
    .optional(),
  git: GitSpecSchema.optional(),
  setupScript: z.string().optional(),
  requirementsFile: z.string().optional(),
});
export type TaskSpec = z.infer<typeof TaskSpecSchema>;

export const CreateTaskSchema = TaskSpecSchema.extend({
  queue: queueName,
  name: z.string().max(200).optional(),
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
}
