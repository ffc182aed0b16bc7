// The shapes the console reads (see /work/lanes console contract and src/server/routes).
export interface Session { name: string; role: 'admin' | 'user' | 'agent' }

export interface QueueRow {
  name: string; waiting: number; running: number; oldestWaitS: number | null;
  waitP50S: number | null; waitP95S: number | null; notScaling: string | null;
}
export interface AppRow {
  name: string; provider: string; instancesByState: Record<string, number>; dollarsPerHour: number;
  capPerHour: number | null; spendToday: number; spendMonth: number; monthProjection: number;
}
export interface Decision {
  id: number; at: number; app?: string; queue: string | null; kind: string; reason: string;
  detail?: Record<string, unknown>; count?: number; lastAt?: number;
}
export interface Overview {
  queues: QueueRow[]; apps: AppRow[]; workers: { total: number; busy: number; idle: number }; decisions: Decision[];
}
export interface Task {
  id: string; queue: string; status: string; name: string; priority: number; createdAt: number; queuedAt: number;
  startedAt: number | null; endedAt: number | null; attempts: number; maxAttempts: number; workerId: string | null;
  exitCode: number | null; statusMessage: string | null; abortRequested: boolean; spec: Record<string, unknown>;
}
export interface LogLine { seq: number; at?: number; stream: string; text: string }
export interface Instance {
  id: string; state: string; resource: string; zone?: string | null; market?: string | null; price?: number;
  pricePerHour?: number; ageS?: number; launchedAt?: number; worker: string | null; task?: string | null;
  idleCountdownS?: number | null; costSoFar?: number; requested?: 'drain' | 'terminate' | null; draining?: boolean; message?: string | null;
}
export interface HistoryPoint { at: number; byState: Record<string, number>; waiting: number; dollarsPerHour: number }
export interface PolicyFigures {
  cost: number; floor: number; costRatio: number; waitP50: number; waitP95: number; waitP99: number;
  idleInstanceHours: number; launches: number; series?: { t: number; instances: number; dollarsPerHour: number }[]; jobs?: number; skippedJobs?: number;
}
export interface Simulation { jobs?: number; edited: PolicyFigures; running: PolicyFigures | null; clearml: PolicyFigures }
export interface SecretInfo { name: string; kind: string; createdAt: number; updatedAt: number }
export type JsonSchema = {
  type?: string | string[]; properties?: Record<string, JsonSchema>; required?: string[]; items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean; enum?: unknown[]; description?: string; default?: unknown;
  minimum?: number; maximum?: number; exclusiveMinimum?: number; pattern?: string; minItems?: number; title?: string;
  oneOf?: JsonSchema[]; anyOf?: JsonSchema[]; const?: unknown; format?: string; writeOnly?: boolean;
};
