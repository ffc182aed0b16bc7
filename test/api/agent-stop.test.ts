// An agent's end is its task's end (issue 13, defects 5 and 7): a task never outlives an agent killed with
// SIGKILL (its run ends at once, so the requeued run is the only complete one), and SIGTERM always ends an
// agent within its stop budget, even with the control plane gone; a second SIGTERM ends it at once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AGENT_WAIT_MS, useControlPlane } from '../support/suite.js';
import { waitFor } from '../support/wait.js';
import type { AgentProc } from '../support/agents.js';

/** Dead, or a zombie waiting for a parent that is gone to reap it. */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function exitsWithin(agent: AgentProc, ms: number) {
  const t0 = Date.now();
  const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), ms).unref());
  const res = await Promise.race([agent.exited, timer]);
  assert.notEqual(res, 'late', `the agent was still running ${ms} ms after SIGTERM:\n${agent.output()}`);
  return { ...(res as Awaited<AgentProc['exited']>), ms: Date.now() - t0 };
}

describe('agent stop', () => {
  const s = useControlPlane('sqlite', { leaseTtlS: 2 });

  test('kill -9 of an agent ends its task at once (the shell and its children): the requeued run is the only complete one', async () => {
    const { t, marks } = s;
    await t.user.createQueue('kill9');
    const log = marks.path('runs');
    // Not idempotent: each run appends "start", works 3 s (a child of the shell), then appends "end".
    const cmd = `echo start >> ${log}; echo $$ > $(mktemp -p ${marks.dir} --suffix .pid); ` +
      `sleep 3 & echo $! > $(mktemp -p ${marks.dir} --suffix .pid); wait; echo end >> ${log}`;
    const task = await t.user.createTask({ queue: 'kill9', command: cmd });
    const first = s.spawn(['kill9']);
    await waitFor('the first run started (shell and sleep)', () => marks.pids().length === 2, AGENT_WAIT_MS);
    const pids = marks.pids();
    first.kill('SIGKILL');
    await first.exited;
    await waitFor(`the task's processes ${pids.join(', ')} gone within 2 s of the agent`, () => pids.every(gone), 2_000);

    const back = await waitFor('the task requeued after its lease ran out', s.statusIs(task.id, 'queued'), AGENT_WAIT_MS);
    assert.match(back.statusMessage ?? '', /lease expired: worker \S+ stopped reporting; back at the head of the queue/);
    s.spawn(['kill9']);
    const done = await waitFor('the second run completed', s.statusIs(task.id, 'completed'), AGENT_WAIT_MS);
    assert.equal(done.attempts, 2);
    assert.deepEqual(marks.lines('runs'), ['start', 'start', 'end'], 'one complete run, not two');
  });

  test('SIGTERM with the control plane down: the idle agent exits within its stop budget, every time', async () => {
    const { t } = s;
    await t.user.createQueue('idle');
    const agents = [1, 2, 3].map(() => s.spawn(['idle'], { args: ['--stop-grace', '1'] }));
    await waitFor('the agents registered', () => agents.every((a) => /registered as worker/.test(a.output())), AGENT_WAIT_MS);
    await t.restart(async () => {
      await new Promise((r) => setTimeout(r, 500)); // they retry their long polls now
      for (const a of agents) a.kill('SIGTERM');
      // Stop budget: 1 s grace + 1 s wrap-up; the forced exit comes 1 s later; 1 s of slack for a busy machine.
      for (const a of agents) {
        const r = await exitsWithin(a, 4_000);
        assert.equal(r.signal, null, a.output());
      }
    });
  });

  test('SIGTERM with the control plane down after the task ended (its end and log not yet reported): the agent exits in time', async () => {
    const { t, marks } = s;
    await t.user.createQueue('ended');
    await t.user.createTask({ queue: 'ended', command: `touch ${marks.path('started')}; sleep 1; echo done` });
    const agent = s.spawn(['ended'], { args: ['--stop-grace', '1'] });
    await waitFor('the task started', () => marks.exists('started'), AGENT_WAIT_MS);
    await t.restart(async () => {
      await new Promise((r) => setTimeout(r, 2_000)); // the task ended; its log and end wait for the control plane
      agent.kill('SIGTERM');
      await exitsWithin(agent, 4_000);
    });
    assert.match(agent.output(), /SIGTERM: stopping/);
  });

  test('a second SIGTERM ends the agent at once, and its task with it', async () => {
    const { t, marks } = s;
    await t.user.createQueue('twice');
    // Ignores SIGTERM: the first SIGTERM alone would wait the whole (long) grace period.
    await t.user.createTask({ queue: 'twice', command: `trap '' TERM; echo $$ > ${marks.path('task.pid')}; sleep 60` });
    const agent = s.spawn(['twice'], { args: ['--stop-grace', '60'] });
    const pid = await waitFor('the task running', () => marks.pid('task'), AGENT_WAIT_MS);
    agent.kill('SIGTERM');
    await waitFor('the first SIGTERM seen', () => /SIGTERM: stopping/.test(agent.output()), 5_000);
    agent.kill('SIGTERM');
    const r = await exitsWithin(agent, 2_000);
    assert.equal(r.code, 130);
    assert.match(agent.output(), /SIGTERM again: exiting now/);
    await waitFor('the task gone with its agent', () => gone(pid), 2_000);
  });
});
