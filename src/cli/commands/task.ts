// flotilla task create|list|show|logs|abort
import type { Command } from 'commander';
import type { CreateTask, Task } from '../../domain/task.js';
import { clientFor } from '../config.js';
import { withFlagNames } from '../errors.js';
import { ago, duration, isoTime, note, printFields, printJson, printTable } from '../output.js';
import { integer, keyValue } from '../args.js';
import { registerTaskLogs } from './task-logs.js';
import { addContainerGitOptions, containerGitFields, CONTAINER_GIT_FLAGS, type ContainerGitFlags } from './task-create.js';
import { registerTaskWhy } from './autoscaler.js';
import { createFromLines, parseTaskLines, readTaskSource } from './task-batch.js';

interface CreateOpts extends ContainerGitFlags {
  queue?: string; fromFile?: string; command?: string; name?: string; env?: Record<string, string>;
  priority?: number; maxAttempts?: number; image?: string; json?: boolean;
}

/** API field → the flag that sets it, so a 400 tells the user which flag to fix. */
const CREATE_FLAGS: Record<string, string> = {
  queue: '--queue', command: '--command', name: '--name', env: '--env', priority: '--priority',
  maxAttempts: '--max-attempts', image: '--image', ...CONTAINER_GIT_FLAGS,
};

export function registerTask(program: Command): void {
  const task = program.command('task').description('put tasks on queues, follow and abort them');

  addContainerGitOptions(task.command('create').description('put a task on a queue (or many, --from-file); prints the ids'))
    .option('--queue <queue>', 'queue to put it on (required without --from-file)')
    .option('--from-file <file>', 'one task per line as a JSON object (the API\'s fields); - reads stdin. The other flags give defaults')
    .option('--command <command>', 'shell command to run (without it: --repo with --entry-point)')
    .option('--name <name>', 'a name to recognise it by')
    .option('--env <NAME=VALUE>', 'environment variable for the task (repeatable)', keyValue)
    .option('--priority <n>', 'higher runs first within the queue (-1000..1000, default 0)', integer(-1000, 1000))
    .option('--max-attempts <n>', 'runs allowed before it fails for good (1..100, default 3)', integer(1, 100))
    .option('--image <image>', 'container image to run it in')
    .option('--json', 'print the created task as JSON')
    .action(async (o: CreateOpts, cmd: Command) => {
      const body = { queue: o.queue!, command: o.command, name: o.name, env: o.env, priority: o.priority,
        maxAttempts: o.maxAttempts, image: o.image, ...containerGitFields(o) };
      if (o.fromFile !== undefined) return createFromFile(o.fromFile, body, !!o.json, cmd);
      if (!o.queue) cmd.error("error: required option '--queue <queue>' not specified (or give --from-file)");
      const created = await clientFor(cmd.optsWithGlobals()).createTask(body)
        .catch((e) => { throw withFlagNames(e, CREATE_FLAGS); });
      if (o.json) return printJson(created);
      note(`task ${created.id} queued on "${created.queue}"`);
      process.stdout.write(created.id + '\n');
    });

  task.command('list').description('list tasks, queued ones in queue order')
    .option('--queue <queue>', 'only this queue')
    // The server checks the state name (and lists the valid ones); importing them here would load zod on every run.
    .option('--status <status>', 'only tasks in this state: queued, running, completed, failed, ...')
    .option('--limit <n>', 'at most this many (1..1000)', integer(1, 1000), 100)
    .option('--offset <n>', 'skip this many', integer(0, Number.MAX_SAFE_INTEGER))
    .option('--json', 'print the result as JSON')
    .action(async (o: { queue?: string; status?: string; limit: number; offset?: number; json?: boolean }, cmd: Command) => {
      const tasks = await clientFor(cmd.optsWithGlobals())
        .listTasks({ queue: o.queue, status: o.status, limit: o.limit, offset: o.offset })
        .catch((e) => { throw withFlagNames(e, { queue: '--queue', status: '--status', limit: '--limit', offset: '--offset' }); });
      if (o.json) return printJson(tasks);
      printTable(tasks, [
        { header: 'ID', value: (t) => t.id },
        { header: 'QUEUE', value: (t) => t.queue },
        { header: 'NAME', value: (t) => t.name, max: 40 },
        { header: 'STATUS', value: (t) => t.status },
        { header: 'PRI', value: (t) => t.priority },
        { header: 'TRIES', value: (t) => `${t.attempts}/${t.maxAttempts}` },
        { header: 'EXIT', value: (t) => t.exitCode },
        { header: 'WORKER', value: (t) => t.workerId },
        { header: 'CREATED', value: (t) => ago(t.createdAt) },
      ]);
    });

  task.command('show <id>').description('everything about one task')
    .option('--json', 'print the task as JSON')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      const client = clientFor(cmd.optsWithGlobals());
      const t = await client.getTask(id);
      const cost = await client.request<{ usd: number; line: string }>('GET', `/api/v1/tasks/${encodeURIComponent(id)}/cost`);
      if (o.json) return printJson({ ...t, cost });
      printFields([...taskFields(t), ['cost', cost.line]]);
    });

  task.command('abort <id>').description('abort a task: a queued one leaves its queue, a running one is stopped')
    .option('--json', 'print the task as JSON')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      const t = await clientFor(cmd.optsWithGlobals()).abortTask(id);
      if (o.json) return printJson(t);
      note(t.status === 'aborted' ? `task ${id} aborted` : `task ${id}: abort requested, its agent is stopping it`);
    });

  registerTaskLogs(task);
  registerTaskWhy(task);
}

/** `task create --from-file`: all lines checked, then queued in batches; ids (or --json, the tasks) on stdout. */
async function createFromFile(path: string, defaults: CreateTask, json: boolean, cmd: Command): Promise<void> {
  const source = path === '-' ? 'stdin' : path;
  const given = Object.fromEntries(Object.entries(defaults).filter(([, v]) => v !== undefined)) as Partial<CreateTask>;
  const lines = await parseTaskLines(readTaskSource(path), source, given);
  const created = await createFromLines(clientFor(cmd.optsWithGlobals()), source, lines);
  if (json) return printJson(created);
  const queues = [...new Set(created.map((t) => t.queue))];
  note(`${created.length} tasks queued on ${queues.map((q) => `"${q}"`).join(', ')}`);
  process.stdout.write(created.map((t) => t.id).join('\n') + '\n');
}

/** Environment values may be secrets: people see the names only (--json gives the full task). */
function taskFields(t: Task): [string, string | number | null][] {
  const ran = t.startedAt ? duration((t.endedAt ?? Date.now()) - t.startedAt) : null;
  return [
    ['id', t.id], ['name', t.name], ['queue', t.queue], ['status', t.status], ['message', t.statusMessage],
    ['priority', t.priority], ['attempts', `${t.attempts} of ${t.maxAttempts}`], ['worker', t.workerId],
    ['exit code', t.exitCode], ['command', t.spec.command ?? null], ['image', t.spec.image ?? null],
    ['git', t.spec.git ? [t.spec.git.repository, t.spec.git.branch, t.spec.git.commit].filter(Boolean).join(' ') : null],
    ['env', Object.keys(t.spec.env ?? {}).join(', ') || null],
    ['abort requested', t.abortRequested ? 'yes' : null],
    ['created', isoTime(t.createdAt)], ['started', t.startedAt ? isoTime(t.startedAt) : null],
    ['ended', t.endedAt ? isoTime(t.endedAt) : null], ['ran for', ran],
  ];
}
