// The `flotilla` command tree (commander), built without running anything: main.ts runs it; the docs' flag
// reference (scripts/docs-flags.ts) and the test that parses the docs' examples read it.
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerSecret } from './commands/secret.js';
import { registerQueue } from './commands/queue.js';
import { registerTask } from './commands/task.js';
import { registerWorker } from './commands/worker.js';
import { registerToken } from './commands/token.js';
import { registerLogin } from './commands/login.js';
import { registerServer } from './commands/server.js';
import { registerAgent } from './commands/agent.js';
import { registerSimulate } from './commands/simulate.js';
import { registerAutoscaler } from './commands/autoscaler.js';
import { registerK8s } from './commands/k8s.js';
import { registerCost } from './commands/cost.js';

export function buildProgram(): Command {
  const program = new Command('flotilla')
    .description('Run machine-learning tasks from queues on machines rented only while there is work')
    .version(VERSION)
    .option('--server <url>', 'control plane URL (else FLOTILLA_SERVER, the login file, or http://127.0.0.1:8080)')
    .showHelpAfterError('(add --help for usage)');
  for (const register of [registerQueue, registerTask, registerWorker, registerToken, registerLogin,
    registerServer, registerAgent, registerSimulate, registerAutoscaler, registerCost, registerK8s]) register(program);
  registerSecret(program);
  return program;
}

