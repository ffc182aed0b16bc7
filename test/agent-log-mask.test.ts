// The agent's own lines ("task X (command) started") are masked like the task's output (issue 13, defect 9a).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane } from './support/control-plane.js';
import { createAgent } from '../src/agent/agent.js';
import { agentExecution } from '../src/agent/setup.js';
import { MASK } from '../src/agent/mask.js';

test('the started line and the output mask the agent token and git password in the command', async () => {
  const t = await startTestControlPlane('sqlite');
  try {
    const canary = 'canary-git-pw-5f3a9c';
    await t.user.createQueue('q');
    // No name: the task is named by its command.
    const task = await t.user.createTask({ queue: 'q', command: `echo ${canary} ${t.agentToken}` });
    const lines: string[] = [];
    const exec = agentExecution({ server: t.cp.url, token: t.agentToken,
      env: { FLOTILLA_GIT_USER: 'u', FLOTILLA_GIT_PASSWORD: canary } });
    await createAgent({ server: t.cp.url, token: t.agentToken, queues: ['q'], once: true, ...exec, log: (m) => lines.push(m) }).run();
    const started = lines.find((l) => l.includes(`task ${task.id}`) && l.includes('started'));
    assert.ok(started, lines.join('\n'));
    assert.ok(started.includes(`echo ${MASK} ${MASK}`), started);
    for (const l of lines) {
      assert.ok(!l.includes(canary), l);
      assert.ok(!l.includes(t.agentToken), l);
    }
    const out = (await t.user.logs(task.id)).lines.map((l) => l.text).join('');
    assert.equal(out, `${MASK} ${MASK}\n`);
  } finally {
    await t.stop();
  }
});
