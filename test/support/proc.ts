// Watches every process's command line (and optionally its environment) for secret values while a
// test runs something, so tests can prove a secret never reached argv or a host process's env.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface ProcHit {
  pid: string;
  file: 'cmdline' | 'environ';
  command: string;
}

export interface ProcScanReport {
  /** How many full passes over /proc were made. */
  passes: number;
  hits: ProcHit[];
  /** Command lines seen (joined argv), to check the scan did see the processes it was meant to watch. */
  commands: Set<string>;
}

export interface ProcScanOptions {
  needles: string[];
  /** Also read /proc/PID/environ; only for processes in this process's mount namespace (not in containers). */
  environ?: boolean;
}

const read = (path: string) => {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined; // the process ended meanwhile
  }
};

const mountNs = (pid: string) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
};

function scanOnce(opts: ProcScanOptions, report: ProcScanReport, ownNs: string | undefined) {
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    const cmdline = read(`/proc/${pid}/cmdline`);
    if (cmdline === undefined || cmdline === '') continue;
    const command = cmdline.split('\0').join(' ').trim();
    report.commands.add(command);
    if (opts.needles.some((n) => cmdline.includes(n))) report.hits.push({ pid, file: 'cmdline', command });
    if (opts.environ && mountNs(pid) === ownNs) {
      const environ = read(`/proc/${pid}/environ`) ?? '';
      if (opts.needles.some((n) => environ.includes(n))) report.hits.push({ pid, file: 'environ', command });
    }
  }
  report.passes++;
}

/** Scans /proc over and over until stop() is called; stop() resolves with what was seen. */
export function startProcScan(opts: ProcScanOptions): { stop(): Promise<ProcScanReport> } {
  const report: ProcScanReport = { passes: 0, hits: [], commands: new Set() };
  const ownNs = mountNs('self');
  let running = true;
  const loop = (async () => {
    while (running) {
      scanOnce(opts, report, ownNs);
      await new Promise((r) => setImmediate(r)); // let the test's own I/O make progress
    }
    scanOnce(opts, report, ownNs);
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return report;
    },
  };
}

export function sawCommand(report: ProcScanReport, pattern: RegExp): boolean {
  return [...report.commands].some((c) => pattern.test(c));
}
