// How fast a real clearml-agent picks up a Flotilla task, next to Flotilla's own agent: enqueue → running, measured
// on one control plane (SQLite) with one idle agent of each kind on its own queue. `npm run bench:clearml`.
import { startTestControlPlane } from '../test/support/control-plane.js';
import { startAgentProcess } from '../test/support/flotilla-process.js';
import { waitFor } from '../test/support/wait.js';
import { clearmlAgentMissing, startClearmlAgent } from '../test/support/clearml-agent.js';

const SAMPLES = Number(process.env.SAMPLES ?? 6);
const missing = clearmlAgentMissing();
if (missing) throw new Error(missing);

const t = await startTestControlPlane('sqlite');
await t.admin.createQueue('bench-clearml');
await t.admin.createQueue('bench-flotilla');
const tok = await t.admin.createToken('bench', 'agent');
const cml = startClearmlAgent({ apiServer: `${t.cp.url}/clearml`, accessKey: tok.id, secretKey: tok.token, queues: ['bench-clearml'], workerId: 'bench-clearml' });
const own = await startAgentProcess(t.cp.url, t.agentToken, ['--queue', 'bench-flotilla', '--worker-id', 'bench-flotilla']);
await waitFor('the clearml-agent to register', async () => (await t.admin.listWorkers()).some((w: { id: string }) => w.id === 'bench-clearml'), 120_000, 100);

async function reaction(queue: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    // Spread over the agent's poll cycle: a random pause before each enqueue.
    await new Promise((r) => setTimeout(r, Math.random() * 5000));
    const task = await t.user.createTask({ queue, command: 'true' });
    const at = Date.now();
    await waitFor('the task to start', async () => (await t.admin.getTask(task.id)).status !== 'queued', 60_000, 10);
    out.push(Date.now() - at);
    await waitFor('the task to end', async () => ['completed', 'failed'].includes((await t.admin.getTask(task.id)).status), 120_000, 50);
  }
  return out;
}

const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]} ms, min ${s[0]} ms, max ${s[s.length - 1]} ms (${s.length} samples)`;
};
const [a, b] = await Promise.all([reaction('bench-clearml'), reaction('bench-flotilla')]);
console.log(`clearml-agent 1.9.2: enqueue → running: ${fmt(a)}`);
console.log(`flotilla agent:      enqueue → running: ${fmt(b)}`);
await cml.stop();
await own.stop();
await t.stop();
