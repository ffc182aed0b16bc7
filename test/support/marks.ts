// A scratch folder that test tasks write into (markers, pid files), so a test can see what ran where,
// and kill what a killed agent left running.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class Marks {
  readonly dir = mkdtempSync(join(tmpdir(), 'flotilla-marks-'));

  path(name: string): string {
    return join(this.dir, name);
  }

  exists(name: string): boolean {
    return existsSync(this.path(name));
  }

  /** Non-empty lines of a marker file (empty when it does not exist yet). */
  lines(name: string): string[] {
    if (!this.exists(name)) return [];
    return readFileSync(this.path(name), 'utf8').split('\n').filter(Boolean);
  }

  /** The pid a task wrote with `echo $$ > NAME.pid; exec …`. */
  pid(name: string): number | undefined {
    const l = this.lines(`${name}.pid`);
    return l.length ? Number(l[0]) : undefined;
  }

  /** Every pid recorded in a .pid file (e.g. `echo $$ > $(mktemp -p DIR --suffix .pid)`, one per run). */
  pids(): number[] {
    return readdirSync(this.dir).filter((n) => n.endsWith('.pid')).map((f) => this.pid(f.slice(0, -4)))
      .filter((p): p is number => !!p);
  }

  /**
   * A command that on its first run records its pid in NAME.pid and sleeps (until killed), and on any later
   * run prints "second run" and ends: a task to kill an agent under, that another agent can then finish.
   */
  sleepsFirstTime(name: string): string {
    const ran = this.path(`${name}.ran`);
    return `if [ -f ${ran} ]; then echo second run; else touch ${ran}; echo $$ > ${this.path(`${name}.pid`)}; ` +
      'echo first run; exec sleep 60; fi';
  }

  /** Kills every process a task recorded in a .pid file, then removes the folder. */
  cleanup(): void {
    for (const pid of this.pids()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
