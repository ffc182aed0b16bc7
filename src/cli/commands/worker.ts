// flotilla worker list
import type { Command } from 'commander';
import { clientFor } from '../config.js';
import { ago, printJson, printTable } from '../output.js';

export function registerWorker(program: Command): void {
  const worker = program.command('worker').description('see the agents registered as workers');

  worker.command('list').description('list workers (stopped ones only with --all)')
    .option('--all', 'include stopped workers')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      const workers = await clientFor(cmd.optsWithGlobals()).listWorkers(!!opts.all);
      if (opts.json) return printJson(workers);
      printTable(workers, [
        { header: 'ID', value: (w) => w.id },
        { header: 'STATUS', value: (w) => w.status },
        { header: 'QUEUES', value: (w) => w.queues.join(',') },
        { header: 'TASK', value: (w) => w.currentTask },
        { header: 'RESOURCE', value: (w) => w.resource },
        { header: 'INSTANCE', value: (w) => w.instanceId },
        { header: 'IDLE', value: (w) => (w.idleSince ? ago(w.idleSince).replace(' ago', '') : null) },
        { header: 'LAST SEEN', value: (w) => ago(w.lastSeen) },
      ]);
    });
}
