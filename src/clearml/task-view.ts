// A Flotilla task as a ClearML client sees it, and the statuses both ways. The agent runs a task "as it is":
// the command is a literal script (`script.diff`, run by bash), the environment is exported at its top, the git
// repository and branch are `script.repository/branch`, the image is `container.image`.
import type { Task, TaskStatus } from '../domain/task.js';
import { toClearmlId } from './ids.js';

/** What the agent's stop check reads in status_message: ClearML's server writes it when a user aborts. */
export const STOPPING = 'stopping';

/**
 * Flotilla → ClearML. A running task whose abort was asked stays `in_progress` with "stopping" in its message, as
 * ClearML shows it: the agent kills the task and answers tasks.stopped. Never `queued` for a task a worker runs
 * (the agent kills a task it sees queued): a running task is `in_progress` whatever else happens.
 */
export function clearmlStatus(status: TaskStatus): string {
  switch (status) {
    case 'queued': case 'scheduled': return 'queued';
    case 'running': return 'in_progress';
    case 'completed': return 'completed';
    case 'failed': return 'failed';
    case 'aborted': return 'stopped';
  }
}

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);
const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** The script the agent writes to a file and runs with bash: env, setup script, then the command. */
export function literalScript(t: Task): string | null {
  if (!t.spec.command) return null;
  const env = Object.entries(t.spec.env ?? {}).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  return [...env, ...(t.spec.setupScript ? [t.spec.setupScript] : []), t.spec.command, ''].join('\n');
}

function dockerArguments(t: Task): string {
  const args: string[] = [];
  for (const [k, v] of Object.entries(t.spec.container?.env ?? {})) args.push('-e', shellQuote(`${k}=${v}`));
  for (const m of t.spec.container?.mounts ?? []) args.push('-v', shellQuote(m));
  return args.join(' ');
}

export function taskView(t: Task, opts: { workerId?: string | null } = {}): Record<string, unknown> {
  const script = literalScript(t);
  const entry = script ? 'flotilla_task.sh' : t.spec.git?.entryPoint ?? '';
  return {
    id: toClearmlId(t.id),
    name: t.name,
    type: 'training',
    status: clearmlStatus(t.status),
    status_message: t.status === 'running' && t.abortRequested ? `${STOPPING}: aborted in Flotilla` : t.statusMessage ?? '',
    status_reason: t.statusMessage ?? '',
    status_changed: iso(t.endedAt ?? t.startedAt ?? t.queuedAt),
    comment: `Flotilla task ${t.id} on queue ${t.queue}`,
    user: 'flotilla', company: 'flotilla', project: null,
    created: iso(t.createdAt), started: iso(t.startedAt), completed: iso(t.endedAt), last_update: iso(t.endedAt ?? t.startedAt ?? t.createdAt),
    last_worker: opts.workerId ?? t.workerId ?? null,
    tags: [], system_tags: [],
    script: {
      binary: script || !entry.endsWith('.py') ? '/bin/bash' : 'python3',
      repository: t.spec.git?.repository ?? '',
      branch: t.spec.git?.branch ?? '',
      version_num: t.spec.git?.commit ?? '',
      entry_point: entry,
      working_dir: '.',
      diff: script ?? '',
      requirements: {},
    },
    container: { image: t.spec.image ?? '', arguments: dockerArguments(t), setup_shell_script: '' },
    execution: { queue: t.queue, parameters: {}, docker_cmd: t.spec.image ?? '' },
    hyperparams: {},
    configuration: {},
    runtime: {},
    models: { input: [], output: [] },
    output: {},
  };
}

/** Keeps only the dotted paths of `fields` (ClearML's only_fields); `id` always stays. */
export function onlyFields(view: Record<string, unknown>, fields: unknown): Record<string, unknown> {
  if (!Array.isArray(fields) || fields.length === 0) return view;
  const out: Record<string, unknown> = { id: view.id };
  for (const f of fields) {
    if (typeof f !== 'string') continue;
    const path = f.split('.');
    let src: any = view;
    for (const p of path) src = src && typeof src === 'object' ? src[p] : undefined;
    if (src === undefined) continue;
    let dst: any = out;
    for (const p of path.slice(0, -1)) dst = dst[p] && typeof dst[p] === 'object' ? dst[p] : (dst[p] = {});
    dst[path[path.length - 1]!] = src;
  }
  return out;
}
