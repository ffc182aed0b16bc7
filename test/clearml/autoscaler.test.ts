// An autoscaler app that serves a ClearML server's queues (source: {kind: clearml}). A second control plane plays
// the ClearML server through its /clearml API; tasks are enqueued there. The app reads that server's queues and
// workers, starts local instances whose worker process is the real clearml-agent (CLEARML_WORKER_ID =
// <app>:<resource>:<instance>, clearml.conf from the app's secret in a 0600 file), they run the tasks, and the app
// stops them once idle, journaling each step as for Flotilla's own queues.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { waitFor } from '../support/wait.js';
import { clearmlAgentEnv, clearmlAgentMissing } from '../support/clearml-agent.js';
import { applyApp, decisions, localWorkerProcesses, status } from '../autoscaler/helpers.js';

const missing = clearmlAgentMissing();
const APP = 'cml';
let clearml: TestControlPlane; // plays the ClearML server
let flotilla: TestControlPlane; // runs the app
let keys: { accessKey: string; secretKey: string };

function killGroups(pids: string[]) {
  for (const pid of pids) {
    try { process.kill(-Number(pid), 'SIGKILL'); } catch { /* gone */ }
  }
}

/** What the app decided and what its agents said, for a failure's message. */
async function story(): Promise<string> {
  const dir = join(flotilla.dataDir, 'workers', APP);
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').slice(-3000)}`);
  const ds = (await decisions(flotilla.user, APP)).reverse().map((d) => `${d.kind}: ${d.reason}`);
  return [...ds, ...logs].join('\n');
}

before(async () => {
  if (missing) return;
  // What the local provider runs as clearml-agent, and how (it passes PYTHONPATH and CLEARML_AGENT_* on).
  Object.assign(process.env, clearmlAgentEnv(), { CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL: '1' });
  clearml = await startTestControlPlane('sqlite');
  await clearml.admin.createQueue('cml-train');
  const tok = await clearml.admin.createToken('autoscaled agents', 'agent');
  keys = { accessKey: tok.id, secretKey: tok.token };
  flotilla = await startTestControlPlane('sqlite', { autoscaler: { clearmlPollMs: 300 } });
});

after(async () => {
  if (missing) return;
  killGroups(await localWorkerProcesses(APP));
  await flotilla?.stop();
  await clearml?.stop();
});

test('the app starts clearml-agents for a ClearML queue, they run its tasks, and stop when idle', { skip: missing }, async () => {
  await flotilla.admin.putSecret('clearml-keys', 'clearml', keys);
  await applyApp(flotilla.user, {
    name: APP,
    provider: { kind: 'local' },
    source: { kind: 'clearml', apiServer: `${clearml.cp.url}/clearml`, credentialsSecret: 'clearml-keys' },
    resources: [{ name: 'cpu', instanceType: 'local-process', pricePerHour: 0.5, maxInstances: 2 }],
    queues: { 'cml-train': ['cpu'] },
    budget: { maxInstances: 2 },
    timings: { idleTimeoutS: 3, bootTimeoutS: 120, capacityCooldownS: 60 },
  });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await clearml.user.createTask({ queue: 'cml-train', command: `echo task ${i}; sleep 2` })).id);

  let peak = 0;
  await waitFor('the ClearML server\'s tasks to complete', async () => {
    peak = Math.max(peak, (await status(flotilla.user, APP)).instances.length);
    const tasks = await Promise.all(ids.map((id) => clearml.admin.getTask(id)));
    assert.ok(!tasks.some((t) => t.status === 'failed'), JSON.stringify(tasks));
    return tasks.every((t) => t.status === 'completed');
  }, 100_000, 250).catch(async (e) => { throw new Error(`${e.message}\n${await story()}`); });
  assert.ok(peak >= 1 && peak <= 2, `between one and two instances at the peak (the max is 2), saw ${peak}`);

  // Each task ran on an agent the app started, named after its instance.
  const instances = new Set((await decisions(flotilla.user, APP)).filter((d) => d.kind === 'launch').map((d) => String(d.detail.instance)));
  for (const id of ids) {
    const t = await clearml.admin.getTask(id);
    const m = /^cml:cpu:(.+)$/.exec(t.workerId ?? '');
    assert.ok(m && instances.has(m[1]!), `task ${id} ran on worker ${t.workerId}, one of the app's instances ${[...instances]}`);
  }

  await waitFor('the idle instances to stop', async () => (await status(flotilla.user, APP)).instances.length === 0, 60_000, 250);
  await waitFor('the clearml-agent processes to exit', async () => (await localWorkerProcesses(APP)).length === 0, 30_000, 250);
  const kinds = (await decisions(flotilla.user, APP)).map((d) => d.kind);
  assert.equal(kinds.filter((k) => k === 'launch').length, instances.size);
  assert.equal(kinds.filter((k) => k === 'terminate').length, instances.size, await story());
  assert.ok(!kinds.includes('orphan-terminated') && !kinds.includes('worker-exited'), await story());

  // The key pair went to each agent in a 0600 clearml.conf, never into a log.
  const dir = join(flotilla.dataDir, 'workers', APP);
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (f.endsWith('.log')) assert.ok(!readFileSync(p, 'utf8').includes(keys.secretKey), `${f} holds the secret key`);
    else if (statSync(p).isDirectory()) assert.equal(statSync(join(p, 'clearml.conf')).mode & 0o777, 0o600);
  }
});
