// flotilla task logs ID [--follow]: pages through the log; --follow long-polls until the task ends.
import type { Command } from 'commander';
import type { FlotillaClient } from '../../client/index.js';
import type { LogLine } from '../../domain/task.js';
import { clientFor } from '../config.js';
import { note } from '../output.js';
import { showNul } from '../../domain/text.js';

const PAGE = 1000;
const FOLLOW_WAIT_MS = 25_000;

export function registerTaskLogs(task: Command): void {
  task.command('logs <id>').description('print a task\'s output (stdout lines to stdout, stderr to stderr)')
    .option('-f, --follow', 'keep printing new lines until the task ends')
    .option('--json', 'one JSON object per line: {seq, stream, text, at} (the exact text; without it, U+0000 is shown as \\0)')
    .action(async (id: string, o: { follow?: boolean; json?: boolean }, cmd: Command) => {
      const client = clientFor(cmd.optsWithGlobals());
      const status: string = await printLogs(client, id, { follow: !!o.follow, print: o.json ? printJsonLine : printLine });
      if (!o.follow || o.json) return;
      const t = await client.getTask(id);
      note(`[flotilla] task ${id} ${status}${t.statusMessage ? ` (${t.statusMessage})` : ''}`);
    });
}

/** Returns the task's status when the log was read to its end (or, following, when the task ended). */
export async function printLogs(
  client: FlotillaClient, id: string, o: { follow: boolean; print: (l: LogLine) => void },
): Promise<string> {
  let after = 0;
  for (;;) {
    const page = await client.logs(id, after, { limit: PAGE, waitMs: o.follow ? FOLLOW_WAIT_MS : 0 });
    for (const line of page.lines) o.print(line);
    after = page.next;
    if (page.lines.length >= PAGE) continue;
    if (!o.follow || (page.done && page.lines.length === 0)) return page.status;
  }
}

/** A line as people read it: U+0000 shown as `\0` (--json gives the exact text). */
function printLine(l: LogLine): void {
  const text = showNul(l.text.endsWith('\n') ? l.text : l.text + '\n');
  if (l.stream === 'stdout') process.stdout.write(text);
  else if (l.stream === 'stderr') process.stderr.write(text);
  else process.stderr.write(`[flotilla] ${text}`);
}

const printJsonLine = (l: LogLine) => process.stdout.write(JSON.stringify(l) + '\n');

