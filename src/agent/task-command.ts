// The shell command a task runs: its setup script, then `pip install -r` of its requirements (when
// the image has Python), then its command or, without one, its git entry point. All of it runs where
// the task runs (inside the container in container mode), from the working copy.
import type { TaskSpec } from '../domain/task.js';

/** Single-quotes a word for sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** How an entry point is started: Python and shell scripts by their interpreter, anything else as a program. */
export function entryPointCommand(entryPoint: string): string {
  const path = shellQuote(entryPoint.startsWith('/') || entryPoint.startsWith('./') ? entryPoint : `./${entryPoint}`);
  if (entryPoint.endsWith('.py')) return `python3 ${path}`;
  if (entryPoint.endsWith('.sh')) return `sh ${path}`;
  return path;
}

// A step that fails stops the task with its exit code and says which step it was.
const step = (what: string, body: string) =>
  `(\n${body}\n)\nflotilla_rc=$?\nif [ "$flotilla_rc" -ne 0 ]; then echo ${shellQuote(`flotilla: ${what} failed with exit code`)} "$flotilla_rc" >&2; exit "$flotilla_rc"; fi\n`;

function requirementsStep(file: string): string {
  return step(`pip install -r ${file}`, [
    'if command -v python3 >/dev/null 2>&1; then py=python3; elif command -v python >/dev/null 2>&1; then py=python; else',
    `  echo ${shellQuote(`flotilla: no python in this image: skipping requirements file ${file}`)} >&2; exit 0`,
    'fi',
    `"$py" -m pip install --disable-pip-version-check -r ${shellQuote(file)}`,
  ].join('\n'));
}

/** The full command line, or an error that names the field to fix. */
export function taskCommand(spec: Pick<TaskSpec, 'command' | 'git' | 'setupScript' | 'requirementsFile'>): string {
  const main = spec.command ?? (spec.git?.entryPoint ? entryPointCommand(spec.git.entryPoint) : undefined);
  if (!main) throw new Error('task has nothing to run: give it a command, or a git repository with an entry point');
  if (!spec.setupScript && !spec.requirementsFile) return main;
  return [
    spec.setupScript ? step('setup script', spec.setupScript) : '',
    spec.requirementsFile ? requirementsStep(spec.requirementsFile) : '',
    main,
  ].join('');
}
