// Job traces: the ElasticFlow CSV (job_id, submission_time, duration, num_gpu) or any CSV whose
// columns are named by a mapping. Bad input is refused with the line it is on and the fix.
import type { RouteRule } from '../domain/autoscaler/simulation-config.js';

export interface TraceJob {
  id: string;
  line: number; // 1-based line in the file, for messages
  submitS: number;
  durationS: number;
  gpus?: number;
  queue?: string;
}

export interface ColumnMap {
  id: string;
  submit: string;
  duration: string;
  gpus?: string;
  queue?: string;
}

export const ELASTICFLOW_COLUMNS: ColumnMap = { id: 'job_id', submit: 'submission_time', duration: 'duration', gpus: 'num_gpu' };

export class TraceError extends Error {
  constructor(source: string, line: number, message: string) {
    super(`${source}: line ${line}: ${message}`);
    this.name = 'TraceError';
  }
}

/** "id=job,submit=ts,duration=secs,gpus=n_gpu,queue=q": unnamed keys keep the ElasticFlow names. */
export function parseColumnMap(spec: string | undefined): ColumnMap {
  const map: ColumnMap = { ...ELASTICFLOW_COLUMNS };
  if (!spec) return map;
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, col] = part.split('=').map((s) => s.trim());
    if (!key || !col || !['id', 'submit', 'duration', 'gpus', 'queue'].includes(key))
      throw new Error(`--columns: "${part}" is not KEY=COLUMN with KEY one of id, submit, duration, gpus, queue`);
    map[key as keyof ColumnMap] = col;
  }
  return map;
}

export function parseTrace(text: string, columns: ColumnMap = ELASTICFLOW_COLUMNS, source = 'trace'): TraceJob[] {
  const lines = text.split('\n');
  const header = splitRow(lines[0] ?? '');
  const col = (name: string | undefined, key: string, required: boolean): number => {
    if (name === undefined) return -1;
    const i = header.indexOf(name);
    if (i < 0 && required)
      throw new TraceError(source, 1, `missing column "${name}" (found: ${header.join(', ') || 'none'}); name the right one with --columns ${key}=COLUMN`);
    return i;
  };
  const ci = { id: col(columns.id, 'id', true), submit: col(columns.submit, 'submit', true), duration: col(columns.duration, 'duration', true),
    gpus: col(columns.gpus, 'gpus', false), queue: col(columns.queue, 'queue', false) };
  if (ci.gpus < 0 && ci.queue < 0)
    throw new TraceError(source, 1, `no "${columns.gpus ?? 'gpus'}" or queue column to route jobs by; map one with --columns gpus=COLUMN or queue=COLUMN`);
  const jobs: TraceJob[] = [];
  let prev = -Infinity;
  for (let n = 1; n < lines.length; n++) {
    const raw = lines[n]!;
    if (raw.trim() === '') continue;
    const f = splitRow(raw);
    if (f.length < header.length) throw new TraceError(source, n + 1, `${f.length} fields where the header has ${header.length}`);
    const num = (i: number, name: string) => {
      const v = Number(f[i]);
      if (f[i] === '' || !Number.isFinite(v)) throw new TraceError(source, n + 1, `${name} "${f[i]}" is not a number`);
      return v;
    };
    const job: TraceJob = { id: f[ci.id]!, line: n + 1, submitS: num(ci.submit, columns.submit), durationS: num(ci.duration, columns.duration) };
    if (job.durationS < 0) throw new TraceError(source, n + 1, `${columns.duration} is ${job.durationS}; a duration must be 0 or more`);
    if (job.submitS < prev)
      throw new TraceError(source, n + 1, `${columns.submit} ${job.submitS} comes before the previous row's ${prev}; sort the file by ${columns.submit}`);
    prev = job.submitS;
    if (ci.gpus >= 0) job.gpus = num(ci.gpus, columns.gpus!);
    if (ci.queue >= 0) job.queue = f[ci.queue];
    jobs.push(job);
  }
  return jobs;
}

function splitRow(line: string): string[] {
  return line.replace(/\r$/, '').split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
}

/** The queue a job goes to: its own queue column, else the first rule its GPU count fits; undefined = skipped. */
export function routeJob(job: TraceJob, rules: readonly RouteRule[], queues: ReadonlySet<string>): string | undefined {
  if (job.queue !== undefined) return queues.has(job.queue) ? job.queue : undefined;
  const g = job.gpus ?? 0;
  for (const r of rules) if (g >= r.minGpus && (r.maxGpus === undefined || g <= r.maxGpus)) return r.queue;
  return undefined;
}
