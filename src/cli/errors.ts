// How a failed command reads: the server's message, each bad field on its own line, and what to do next.
import { CommanderError } from 'commander';
import { ApiError, UnreachableError } from '../client/index.js';
import { missingTokenHints, resolveConnection } from './config.js';
import { note } from './output.js';

/** Prints the error to stderr and returns the exit code. */
export function reportError(err: unknown, flags: { server?: string }): number {
  if (err instanceof CommanderError) return err.exitCode;
  if (err instanceof ApiError) {
    // The message repeats the issues on one line; with issues, one per line reads better.
    note(`error: ${err.issues?.length ? 'invalid request' : err.message}`);
    for (const i of err.issues ?? []) note(`  ${i.field}: ${i.message}`);
    if (err.status === 401) for (const h of missingTokenHints(safeConnection(flags))) note(`hint: ${h}`);
    return 1;
  }
  if (err instanceof UnreachableError) {
    note(`error: ${err.message}`);
    note('hint: start one with `flotilla up` (embedded, SQLite) or `flotilla server --db ...`,');
    note('      or point the CLI at yours with --server URL or FLOTILLA_SERVER');
    return 1;
  }
  note(`error: ${(err as Error)?.message ?? err}`);
  return 1;
}

function safeConnection(flags: { server?: string }) {
  try {
    return resolveConnection(flags);
  } catch {
    return { server: flags.server ?? '', serverFrom: 'flag' as const };
  }
}

/** Server field names mapped back to the flags that set them, so the user knows what to change. */
export function withFlagNames(err: unknown, flags: Record<string, string>): unknown {
  if (!(err instanceof ApiError) || !err.issues) return err;
  const issues = err.issues.map((i) => {
    const key = i.field.replace(/^(body|query)\./, '').split('.')[0];
    return flags[key] ? { field: `${i.field} (${flags[key]})`, message: i.message } : i;
  });
  return new ApiError(err.status, err.message, issues);
}
