// The shape every API test file shares: per dialect, one control plane for the file's tests, agents
// that are killed and task marker folders that are removed after each test.
import { after, afterEach, before, beforeEach } from 'node:test';
import type { ControlPlaneOptions } from '../../src/server/main.js';
import type { Task, TaskStatus } from '../../src/domain/task.js';
import { startTestControlPlane, type TestControlPlane } from './control-plane.js';
import { killAgents, spawnAgent, type AgentOptions, type AgentProc } from './agents.js';
import { Marks } from './marks.js';

/**
 * How long a test waits on something an agent process must do (start, take, run, report). Generous: when
 * npm test runs the drain test beside another file, sixteen agents share two cores.
 */
export const AGENT_WAIT_MS = 90_000;

export interface Suite {
  readonly t: TestControlPlane;
  /** A fresh marker folder for the current test. */
  readonly marks: Marks;
  /** Starts a real agent process on these queues (killed at the end of the test, or of the file with keepAgents). */
  spawn(queues: string[], opts?: AgentOptions): AgentProc;
  /** A check for waitFor: the task once it has this status. */
  statusIs(id: string, status: TaskStatus): () => Promise<Task | false>;
}

/** Call inside a describe(): registers the hooks and returns the suite's handles. */
export function useControlPlane(
  dialect: 'sqlite' | 'postgres',
  opts: Partial<ControlPlaneOptions> & { keepAgents?: boolean } = {},
): Suite {
  const { keepAgents, ...cpOpts } = opts;
  let t: TestControlPlane | undefined;
  let marks: Marks | undefined;
  const group = new Set<AgentProc>();
  before(async () => {
    t = await startTestControlPlane(dialect, cpOpts);
  });
  after(async () => {
    await killAgents(group);
    await t?.stop();
  });
  beforeEach(() => {
    marks = new Marks();
  });
  afterEach(async () => {
    if (!keepAgents) await killAgents(group);
    marks?.cleanup();
  });
  const suite: Suite = {
    get t() {
      return t!;
    },
    get marks() {
      return marks!;
    },
    spawn: (queues, o = {}) => spawnAgent(t!.cp.url, t!.agentToken, queues, { ...o, group }),
    statusIs: (id, status) => async () => {
      const x = await t!.user.getTask(id);
      return x.status === status && x;
    },
  };
  return suite;
}
