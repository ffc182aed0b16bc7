// flotilla autoscaler apply|list|show|delete|status|schema|decisions|render-startup, and flotilla task why.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { clientFor } from '../config.js';
import { ago, fieldsText, isoTime, note, printFields, printJson, printTable, reasonOf, table } from '../output.js';
import { integer } from '../args.js';
import { registerRenderStartup } from './render-startup.js';

export interface Status {
  app: string; provider: string; instancesByState: Record<string, number>; queues: Record<string, number>;
  idleWorkers: number; spendRatePerHour: number; spendTodayUsd: number; spendMonthUsd: number;
  instances: { id: string; resource: string; state: string; providerId: string | null; launchedAt: number; worker: string | null; busy: boolean }[];
  budget: { maxInstances?: number; maxPerHour?: number };
  budgetPeriods?: { todayUsd: number; monthUsd: number; monthProjectedUsd: number; maxPerDay: number | null; maxPerMonth: number | null } | null;
  prices?: { resource: string; instanceType: string; market: string; zone: string | null; pricePerHour: number | null; source: string; at: number }[];
}
interface Decision { at: number; queue: string | null; kind: string; reason: string; count?: number; lastAt?: number }
type AppSummary = { name: string; provider: { kind: string }; queues: Record<string, string[]>; resources: unknown[]; updatedAt: number };

function readAppFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  const doc = parseYaml(text);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${path}: expected a YAML mapping (name, provider, resources, queues, ...)`);
  if (typeof doc.name !== 'string') throw new Error(`${path}: field "name" is missing: give the app a name`);
  return doc;
}

export function registerAutoscaler(program: Command): void {
  const as = program.command('autoscaler').description('autoscaler apps: start machines for queued tasks, within a budget');
  as.command('apply').description('create or update an app from a YAML (or JSON) file')
    .requiredOption('-f, --file <path>', 'the app file').option('--json', 'print the stored config as JSON')
    .action(async (o: { file: string; json?: boolean }, cmd: Command) => {
      const doc = readAppFile(o.file);
      const saved = await clientFor(cmd.optsWithGlobals()).request('PUT', `/api/v1/autoscalers/${encodeURIComponent(doc.name as string)}`, doc);
      if (o.json) return printJson(saved);
      note(`autoscaler app "${doc.name}" applied`);
    });
  as.command('list').description('list apps').option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const { apps } = await clientFor(cmd.optsWithGlobals()).request<{ apps: AppSummary[] }>('GET', '/api/v1/autoscalers');
      if (o.json) return printJson(apps);
      printTable(apps, [
        { header: 'NAME', value: (a) => a.name }, { header: 'PROVIDER', value: (a) => a.provider.kind },
        { header: 'QUEUES', value: (a) => Object.keys(a.queues).join(',') },
        { header: 'RESOURCES', value: (a) => a.resources.length }, { header: 'UPDATED', value: (a) => ago(a.updatedAt) },
      ]);
    });
  as.command('show <name>').description("an app's config").option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      const cfg = await clientFor(cmd.optsWithGlobals()).request('GET', `/api/v1/autoscalers/${encodeURIComponent(name)}`);
      if (o.json) return printJson(cfg);
      const { stringify } = await import('yaml');
      process.stdout.write(stringify(cfg));
    });
  as.command('delete <name>').description('delete an app; its machines are stopped and their tasks requeued')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await clientFor(cmd.optsWithGlobals()).request('DELETE', `/api/v1/autoscalers/${encodeURIComponent(name)}`);
      note(`autoscaler app "${name}" deleted`);
    });
  as.command('schema').description('print the JSON Schema of an app file (for editors)')
    .action(async (_o: unknown, cmd: Command) => printJson(await clientFor(cmd.optsWithGlobals()).request('GET', '/api/v1/autoscaler-schema')));
  as.command('status <name>').description('instances by state, queue depths, idle workers and spend').option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      const s = await clientFor(cmd.optsWithGlobals()).request<Status>('GET', `/api/v1/autoscalers/${encodeURIComponent(name)}/status`);
      if (o.json) return printJson(s);
      process.stdout.write(statusText(s));
    });
  as.command('decisions <name>').description('the decision journal, newest first').option('--json', 'print JSON')
    .option('--limit <n>', 'rows', integer(1, 1000), 30)
    .action(async (name: string, o: { json?: boolean; limit: number }, cmd: Command) => {
      const { decisions } = await clientFor(cmd.optsWithGlobals())
        .request<{ decisions: Decision[] }>('GET', `/api/v1/autoscalers/${encodeURIComponent(name)}/decisions?limit=${o.limit}`);
      if (o.json) return printJson(decisions);
      printTable(decisions, [
        { header: 'AT', value: (d) => isoTime(d.at) }, { header: 'KIND', value: (d) => d.kind },
        { header: 'QUEUE', value: (d) => d.queue }, { header: 'REASON', value: (d) => reasonOf(d) },
      ]);
    });
  registerRenderStartup(as);
}

/** The human form of `autoscaler status`: fields, then one row per instance with the provider's id (i-…, a GCE name). */
export function statusText(s: Status, now = Date.now()): string {
  const usd = (x: number) => `$${x.toFixed(2)}`;
  const text = fieldsText([
    ['app', `${s.app} (${s.provider})`],
    ['instances', Object.entries(s.instancesByState).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'],
    ['queues', Object.entries(s.queues).map(([q, n]) => `${q}: ${n} waiting`).join(', ')],
    ['idle workers', s.idleWorkers],
    ['spend rate', `${usd(s.spendRatePerHour)}/h${s.budget.maxPerHour ? ` (cap ${usd(s.budget.maxPerHour)}/h)` : ''}`],
    ['spend today', usd(s.spendTodayUsd)],
    ['spend this month', usd(s.spendMonthUsd)],
    ...budgetFields(s, usd),
    ['prices', (s.prices ?? []).map((p) => `${p.resource} ${p.instanceType} ${p.market}${p.zone ? ` ${p.zone}` : ''}: ${p.pricePerHour === null ? '?' : `${usd(p.pricePerHour)}/h`} (${p.source}${p.source === 'config' ? '' : `, ${isoTime(p.at)}`})`).join('; ') || null],
  ]);
  if (!s.instances.length) return text;
  return text + '\n' + table(s.instances, [
    { header: 'INSTANCE', value: (i) => i.id }, { header: 'PROVIDER ID', value: (i) => i.providerId },
    { header: 'RESOURCE', value: (i) => i.resource },
    { header: 'STATE', value: (i) => i.state }, { header: 'WORKER', value: (i) => i.worker },
    { header: 'BUSY', value: (i) => (i.busy ? 'yes' : 'no') }, { header: 'AGE', value: (i) => ago(i.launchedAt, now).replace(' ago', '') },
  ]) + '\n';
}

function budgetFields(s: Status, usd: (x: number) => string): [string, string][] {
  const b = s.budgetPeriods;
  if (!b) return [];
  return [
    ...(b.maxPerDay !== null ? [['day budget', `${usd(b.todayUsd)} of ${usd(b.maxPerDay)}`] as [string, string]] : []),
    ...(b.maxPerMonth !== null ? [['month budget', `${usd(b.monthUsd)} of ${usd(b.maxPerMonth)} (projected ${usd(b.monthProjectedUsd)})`] as [string, string]] : []),
  ];
}

/** `flotilla task why ID`: what holds a waiting task back now (the plan evaluated by the server), then the recent journal. */
export function registerTaskWhy(task: Command): void {
  task.command('why <id>').description('why a task still waits: the limit that binds now, and the recent journal').option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      const w = await clientFor(cmd.optsWithGlobals())
        .request<{ why: string; status: string; statusMessage: string | null; decisions: Decision[] }>('GET', `/api/v1/tasks/${encodeURIComponent(id)}/why`);
      if (o.json) return printJson(w);
      process.stdout.write(`${w.why}\n`);
      if (w.status === 'queued' && w.statusMessage && w.statusMessage !== w.why) process.stdout.write(`status: ${w.statusMessage}\n`);
      for (const d of w.decisions.slice(0, 5)) process.stdout.write(`  ${isoTime(d.at)}  ${d.kind}: ${reasonOf(d)}\n`);
    });
}
