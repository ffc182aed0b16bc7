// flotilla cost report: spend attributed to apps, resources, queues, tasks or days (in the style of SkyPilot's
// `sky cost-report`), from GET /api/v1/costs: the same figures as the API and flotilla_spend_usd_total.
import type { Command } from 'commander';
import { clientFor } from '../config.js';
import { printJson, printTable, note } from '../output.js';
import type { CostReport, CostRow } from '../../services/costs.js';

const BY = ['app', 'resource', 'queue', 'task', 'day'];
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** "7d", "12h", "30m", "2w" → milliseconds. */
export function parseSince(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(s.trim());
  if (!m) throw new Error(`--since "${s}" is not a duration: use a number and m, h, d or w, such as 7d or 12h`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** Cents, or tenths of a cent under a dollar (a short run costs less than a cent). */
const money = (x: number | null) => (x === null ? '-' : `$${x.toFixed(x < 1 ? 3 : 2)}`);

export function registerCost(program: Command): void {
  const cost = program.command('cost').description('what the machines cost, and who spent it');
  cost.command('report').description('spend by app, resource, queue, task or day: busy, boot and idle, instance-hours, tasks, cost per task')
    .option('--since <duration>', 'how far back, e.g. 7d, 12h, 2w', '7d')
    .option('--by <what>', `group by ${BY.join(', ')}`, 'app')
    .option('--app <name>', 'one autoscaler app only')
    .option('--json', 'print the report as JSON')
    .action(async (o: { since: string; by: string; app?: string; json?: boolean }, cmd: Command) => {
      if (!BY.includes(o.by)) throw new Error(`--by "${o.by}" is not known: use one of ${BY.join(', ')}`);
      const client = clientFor(cmd.optsWithGlobals());
      const to = Date.now();
      const q = new URLSearchParams({ from: String(to - parseSince(o.since)), to: String(to), by: o.by, ...(o.app ? { app: o.app } : {}) });
      const r = await client.request<CostReport>('GET', `/api/v1/costs?${q}`);
      if (o.json) return printJson(r);
      if (!r.rows.length) {
        note(`nothing was billed in the last ${o.since}`);
        return;
      }
      printTable<CostRow>([...r.rows, r.total], [
        { header: o.by.toUpperCase(), value: (x) => x.key },
        { header: 'SPENT', value: (x) => money(x.spentUsd) },
        { header: 'BUSY', value: (x) => money(x.busyUsd) },
        { header: 'BOOT', value: (x) => money(x.bootUsd) },
        { header: 'IDLE', value: (x) => money(x.idleUsd) },
        { header: 'INST-HOURS', value: (x) => x.instanceHours.toFixed(2) },
        { header: 'TASKS', value: (x) => x.tasks },
        { header: 'PER TASK', value: (x) => money(x.costPerTaskUsd) },
      ]);
    });
}
