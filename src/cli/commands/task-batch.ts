// `flotilla task create --from-file tasks.jsonl` (or `-` for stdin): many tasks in one Node start, sent through
// the batch route in chunks of BATCH. Every line is checked here first (JSON, known fields, the task schema, the
// queue exists), so a mistake names its line and field and nothing is queued.
import { readFileSync } from 'node:fs';
import type { CreateTask, Task } from '../../domain/task.js';
import { ApiError, type FlotillaClient } from '../../client/index.js';
import { note } from '../output.js';

/** The batch route takes at most this many tasks per call. */
export const BATCH = 1000;

const KNOWN = ['queue', 'command', 'name', 'env', 'priority', 'maxAttempts', 'image', 'container', 'git',
  'setupScript', 'requirementsFile'];

export interface NumberedTask { line: number; task: CreateTask }

/** A mistake in the file: "tasks.jsonl line 3: priority: ...". */
export class TaskFileError extends Error {
  constructor(readonly source: string, readonly problems: { line: number; field?: string; message: string }[]) {
    const say = (p: TaskFileError['problems'][number]) => `line ${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
    super(problems.length === 1 ? `${source} ${say(problems[0]!)}`
      : [`${source}: ${problems.length} problems`, ...problems.map((p) => `  ${say(p)}`)].join('\n'));
    this.name = 'TaskFileError';
  }
}

export function readTaskSource(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path === '-' ? 'stdin' : path}: ${(e as Error).message}`);
  }
}

/**
 * One JSON object per non-blank line, in the API's form (docs/api.md: queue, command, name, env, priority,
 * maxAttempts, image, container, git, setupScript, requirementsFile). `defaults` (from the command line's flags)
 * fill what a line leaves out; `env` is merged, the line's names winning.
 */
export async function parseTaskLines(text: string, source: string, defaults: Partial<CreateTask>): Promise<NumberedTask[]> {
  const { CreateTaskSchema } = await import('../../domain/task.js'); // zod: loaded only for files
  const out: NumberedTask[] = [];
  const problems: TaskFileError['problems'] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      problems.push({ line, message: `not JSON (${(e as Error).message})` });
      return;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ line, message: 'expected a JSON object like {"queue": "default", "command": "echo hi"}' });
      return;
    }
    for (const key of Object.keys(value)) if (!KNOWN.includes(key)) problems.push({ line, field: key, message: `unknown field; known: ${KNOWN.join(', ')}` });
    const fields = value as Partial<CreateTask>;
    const env = defaults.env || fields.env ? { ...defaults.env, ...fields.env } : undefined;
    const task = Object.fromEntries(Object.entries({ ...defaults, ...fields, env }).filter(([, v]) => v !== undefined)) as CreateTask;
    const checked = CreateTaskSchema.safeParse(task);
    if (!checked.success) for (const issue of checked.error.issues) problems.push({ line, field: issue.path.join('.') || undefined, message: issue.message });
    out.push({ line, task });
  });
  if (problems.length) throw new TaskFileError(source, problems.length > 20 ? [...problems.slice(0, 20), { line: problems[20]!.line, message: `… and ${problems.length - 20} more` }] : problems);
  if (!out.length) throw new Error(`${source}: no tasks in it (one JSON object per line)`);
  return out;
}

/** Queues chunk by chunk; progress on stderr. Returns the created tasks in file order. */
export async function createFromLines(client: FlotillaClient, source: string, lines: NumberedTask[]): Promise<Task[]> {
  const existing = new Set((await client.listQueues()).map((q) => q.name));
  const missing = lines.filter((l) => !existing.has(l.task.queue));
  if (missing.length) {
    throw new TaskFileError(source, missing.slice(0, 5).map((l) => ({
      line: l.line, field: 'queue', message: `queue "${l.task.queue}" does not exist: create it with "flotilla queue create ${l.task.queue}"`,
    })));
  }
  const created: Task[] = [];
  for (let start = 0; start < lines.length; start += BATCH) {
    const chunk = lines.slice(start, start + BATCH);
    try {
      created.push(...(await client.createTasks(chunk.map((l) => l.task))));
    } catch (e) {
      if (created.length) note(`${created.length} tasks (lines ${lines[0]!.line}-${lines[start - 1]!.line}) were queued before this error; none after`);
      throw byLine(e, source, chunk);
    }
    if (lines.length > BATCH) note(`queued ${created.length}/${lines.length}`);
  }
  return created;
}

/** The server's `body.tasks.7.priority` becomes "line N: priority". */
function byLine(err: unknown, source: string, chunk: NumberedTask[]): unknown {
  if (!(err instanceof ApiError) || !err.issues?.length) return err;
  const problems = err.issues.map((i) => {
    const m = /^body\.tasks\.(\d+)\.?(.*)$/.exec(i.field);
    const at = m ? chunk[Number(m[1])] : undefined;
    return at ? { line: at.line, field: m![2] || undefined, message: i.message } : { line: chunk[0]!.line, field: i.field, message: i.message };
  });
  return new TaskFileError(source, problems);
}
