// What the CLI prints: aligned tables for people, JSON for scripts (and nothing else on stdout then).

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  /** Longer values are cut with "…" so one long name does not push every row off the screen. */
  max?: number;
}

/** Columns padded to their widest cell; the last column is not padded so lines carry no trailing blanks. */
export function table<T>(rows: T[], columns: Column<T>[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => clip(cell(c.value(r)), c.max)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  return cells
    .map((line) => line.map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i]))).join('  ').trimEnd())
    .join('\n');
}

const cell = (v: string | number | null | undefined) => (v === null || v === undefined || v === '' ? '-' : String(v));

const clip = (text: string, max?: number) => (max && text.length > max ? text.slice(0, max - 1) + '…' : text);

export function printTable<T>(rows: T[], columns: Column<T>[]): void {
  process.stdout.write(table(rows, columns) + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** `key: value` lines with the keys aligned, for `show` commands. */
export function printFields(fields: [string, string | number | null | undefined][]): void {
  process.stdout.write(fieldsText(fields));
}

export function fieldsText(fields: [string, string | number | null | undefined][]): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  return fields.map(([k, v]) => `${(k + ':').padEnd(width)} ${cell(v)}\n`).join('');
}

/**
 * `flotilla … | head -3`: when the reader closes the pipe, writes fail with EPIPE. That is not an error of the
 * command, so it ends quietly (exit 0, no stack trace), as Unix tools do on SIGPIPE. A long-running command (the
 * control plane) may set `onOutputClosed` to stop cleanly instead of exiting at once.
 */
export let onOutputClosed: () => void = () => process.exit(0);
export const setOnOutputClosed = (f: () => void) => { onOutputClosed = f; };

export function exitQuietlyWhenOutputCloses(): void {
  let closed = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // EIO: the terminal it wrote to was closed (SIGHUP's companion).
      if (err.code !== 'EPIPE' && err.code !== 'EIO' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      if (closed) return;
      closed = true;
      onOutputClosed();
    });
  }
}

/** Messages for people go to stderr so stdout stays clean for pipes and --json. */
export const note = (msg: string) => process.stderr.write(msg + '\n');

/** "12s ago", "5m ago", "3h ago", "2d ago" from an epoch-ms time. */
export function ago(at: number | null | undefined, now = Date.now()): string {
  if (!at) return '-';
  return `${duration(Math.max(0, now - at))} ago`;
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export const isoTime = (at: number | null | undefined) => (at ? new Date(at).toISOString() : '-');

/** A row that happened more than once (identical refusals fold into one): "reason ×N (last TIME)". */
export function reasonOf(d: { reason: string; count?: number; lastAt?: number }): string {
  return d.count && d.count > 1 ? `${d.reason} ×${d.count} (last ${isoTime(d.lastAt ?? 0)})` : d.reason;
}
