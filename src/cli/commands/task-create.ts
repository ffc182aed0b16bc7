// The container and git flags of `flotilla task create`, and the task body they make.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CreateTask } from '../../domain/task.js';
import { keyValue } from '../args.js';

export interface ContainerGitFlags {
  containerEnv?: Record<string, string>; mount?: string[]; repo?: string; branch?: string; commit?: string;
  entryPoint?: string; setupScript?: string; requirements?: string;
}

/** API field → the flags that set it. */
export const CONTAINER_GIT_FLAGS: Record<string, string> = {
  container: '--container-env / --mount', git: '--repo / --branch / --commit / --entry-point',
  setupScript: '--setup-script', requirementsFile: '--requirements',
};

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--setup-script TEXT`, or `@FILE` to read it from a file. */
const scriptText = (value: string) => (value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value);

export function addContainerGitOptions(cmd: Command): Command {
  return cmd
    .option('--container-env <NAME=VALUE>', 'environment variable for the container only (repeatable)', keyValue)
    .option('--mount <host:container[:ro]>', "host directory to mount (must be under the agent's --allow-mount; repeatable)", collect)
    .option('--repo <url>', 'git repository (https or ssh, no credentials in it) cloned into the working directory')
    .option('--branch <branch>', 'branch to clone')
    .option('--commit <sha>', 'commit to check out')
    .option('--entry-point <path>', 'script in the repository run when there is no --command (.py: python3, .sh: sh)')
    .option('--setup-script <script>', 'shell commands run before the command, in its container (@FILE reads a file)')
    .option('--requirements <file>', 'requirements file in the repository: pip install -r when the image has Python');
}

export function containerGitFields(o: ContainerGitFlags): Partial<CreateTask> {
  if (!o.repo && (o.branch || o.commit || o.entryPoint)) throw new Error('--branch, --commit and --entry-point need --repo URL');
  return {
    container: o.containerEnv || o.mount ? { env: o.containerEnv, mounts: o.mount } : undefined,
    git: o.repo ? { repository: o.repo, branch: o.branch, commit: o.commit, entryPoint: o.entryPoint } : undefined,
    setupScript: o.setupScript && scriptText(o.setupScript),
    requirementsFile: o.requirements,
  };
}
