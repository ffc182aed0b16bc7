// flotilla queue create|list|delete
import type { Command } from 'commander';
import { clientFor } from '../config.js';
import { withFlagNames } from '../errors.js';
import { ago, note, printJson, printTable } from '../output.js';

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('create, list and delete queues');

  queue.command('create <name>').description('create a queue')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const created = await clientFor(cmd.optsWithGlobals()).createQueue(name)
        .catch((e) => { throw withFlagNames(e, { name: '<name>' }); });
      if (opts.json) printJson(created);
      else note(`queue "${created.name}" created`);
    });

  queue.command('list').description('list queues with how many tasks wait and run in each')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const queues = await clientFor(cmd.optsWithGlobals()).listQueues();
      if (opts.json) return printJson(queues);
      printTable(queues, [
        { header: 'NAME', value: (q) => q.name },
        { header: 'QUEUED', value: (q) => q.queued },
        { header: 'RUNNING', value: (q) => q.running },
        { header: 'CREATED', value: (q) => ago(q.createdAt) },
      ]);
    });

  queue.command('delete <name>').description('delete a queue (refused while tasks wait or run in it)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await clientFor(cmd.optsWithGlobals()).deleteQueue(name);
      note(`queue "${name}" deleted`);
    });
}
