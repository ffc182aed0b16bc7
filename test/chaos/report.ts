// Each chaos part appends one JSON line of figures to CHAOS_REPORT (when set), so the runner can print
// one summary table; it also prints them, for a part run on its own.
import { appendFileSync } from 'node:fs';

export interface PartFigures {
  part: string;
  rounds?: number;
  kills?: number;
  faults?: number;
  requests?: number;
  canaries?: number;
  /** Anything else worth a line (seconds, per-minute rates, latencies). */
  notes?: string;
  /** What must be zero, by name (lost, twice, orphans, overBudget, fiveXx, hangs, storeDiffs, leaks...). */
  zeros?: Record<string, number>;
}

export function report(f: PartFigures): void {
  process.stderr.write(`chaos figures: ${JSON.stringify(f)}\n`);
  if (process.env.CHAOS_REPORT) appendFileSync(process.env.CHAOS_REPORT, `${JSON.stringify(f)}\n`);
}
