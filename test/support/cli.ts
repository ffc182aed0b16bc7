// The built `flotilla` CLI as a child process, with only the environment a test gives it (plus PATH), never the
// developer's own login file.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

export interface Run { code: number | null; stdout: string; stderr: string }

export function cli(args: string[], o: { env?: Record<string, string>; input?: string; cwd: string }): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: o.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: o.cwd, FLOTILLA_CONFIG: join(o.cwd, 'credentials.json'), ...o.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(o.input ?? '');
  });
}
