// The worker daemon: registers, long-polls its queues in order, runs one task at a time,
// heartbeats the lease, streams output, and reports the end. SIGTERM hands the task back.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ApiError, FlotillaClient, type AgentSettings, type Dequeued, type FinishedReport } from '../client/index.js';
import type { Execution, Executor } from './executors/types.js';
import { ProcessExecutor } from './executors/process.js';
import { LogShipper, type OutputTransform } from './log-shipper.js';
import { isTransient, sleep, unreachableReporter, withRetry } from './retry.js';
import { Backoff, retry } from '../domain/backoff.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { BACKOFF, DEFAULT_TIMINGS } from '../domain/timings.js';
import { showNul } from '../domain/text.js';
import { defaultWorkBase, prepareWorkFolder } from './work-dir.js';
import { interruptionEnv, watchForInterruptions, type InterruptionWatch } from './interruption-handling.js';

export interface AgentOptions {
  server: string;
  token: string;
  queues: string[];
  workerId?: string;
  once?: boolean;
  idleExitS?: number;
  /** Run exactly this task, then exit (a Kubernetes pod's agent). */
  taskId?: string;
  /** Where the worker's folder of task directories is made: default defaultWorkBase() ($XDG_CACHE_HOME/flotilla/work). */
  workRoot?: string;
  app?: string;
  resource?: string;
  instanceId?: string;
  executor?: Executor;
  /** Prepares a task before it runs (git clone); may return the command to run instead of the task's. */
  prepare?: (d: Dequeued, workDir: string, log: LogShipper) => Promise<void | { command?: string }>;
  /** Rewrites output before it leaves the machine (secret masking); its held-back tail is flushed per task. */
  transformOutput?: OutputTransform;
  /** How long a stopping agent gives its task after SIGTERM. Default: DEFAULT_TIMINGS.agentStopGraceMs. */
  stopGraceMs?: number;
  log?: (msg: string) => void;
  /** The clock of the idle timeout (tests move it). */
  clock?: Clock;
  /** On a cloud machine: watch its metadata server for the spot interruption notice (interruption.ts). */
  interruptions?: InterruptionWatch;
  /**
   * Idle, and the control plane unreachable (or answering 5xx) this long without a break: sign off and end, with
   * gaveUp() true. Unset: wait for it forever. A task that runs is never given up for this.
   */
  exitIfUnreachableS?: number;
}

export interface Agent {
  run(): Promise<void>;
  /** Stops the task, hands it back to its queue, and resolves when run() has ended: within stopBudgetMs. */
  stop(reason: string): Promise<void>;
  /**
   * The longest stop() takes: the task's grace period, then the wrap-up (log flush, hand-back, last report,
   * sign-off), every request of which gives up at this deadline when the control plane does not answer.
   */
  readonly stopBudgetMs: number;
  /** run() ended because the control plane stayed unreachable for exitIfUnreachableS (see domain/agent-exit.ts). */
  gaveUp(): boolean;
}

/** After the task's grace period, the hand-back and sign-off get at most this long. */
const WRAP_UP_MS = 5_000;

export function createAgent(o: AgentOptions): Agent {
  const client = new FlotillaClient(o.server, o.token);
  const workerId = o.workerId ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
  const executor: Executor = o.executor ?? new ProcessExecutor();
  const write = o.log ?? ((m: string) => process.stderr.write(`[agent ${workerId}] ${m}\n`));
  // The agent's own lines are masked like task output: a task's name is its command unless it was given one.
  const log = (m: string) => write(o.transformOutput?.mask?.(m) ?? m);
  const graceMs = o.stopGraceMs ?? DEFAULT_TIMINGS.agentStopGraceMs;
  const stopBudgetMs = graceMs + Math.min(graceMs, WRAP_UP_MS);
  const clock = o.clock ?? systemClock;
  const polling = new AbortController();
  let stopping: string | null = null;
  // Set by stop(): every request the agent still makes gives up then (the control plane may be gone for good).
  let stopBy = Infinity;
  let stopRequested!: () => void;
  const stopRequestedP = new Promise<void>((r) => (stopRequested = r));
  let stopDeadline!: () => void;
  const stopDeadlineP = new Promise<void>((r) => (stopDeadline = r));
  /** `p`, or nothing once the stop deadline has passed. */
  const untilStopDeadline = (p: Promise<unknown>) => Promise.race([p, stopDeadlineP]);
  let current: { d: Dequeued; exec?: Execution; shipper: LogShipper } | null = null;
  // Until the control plane answers register with its own.
  let settings: AgentSettings = { leaseTtlMs: DEFAULT_TIMINGS.leaseTtlMs, heartbeatMs: DEFAULT_TIMINGS.heartbeatMs, maxWaitMs: DEFAULT_TIMINGS.maxWaitMs };
  // The end of the last task rides on the next dequeue: one request between two tasks, not two.
  let ended: FinishedReport | undefined;
  // Spot: set on a rebalance recommendation (take no new task), and on a notice (how the task is handed back).
  let noNewTask: string | null = null;
  let handBackReason: string | null = null;
  let interruptionReported: Promise<unknown> = Promise.resolve();

  // Register and dequeue wait for the control plane for as long as it takes, and say so while they do.
  const reach = unreachableReporter(client.server, log);
  let gaveUp = false;
  async function untilReached<T>(fn: () => Promise<T>): Promise<T> {
    const r = await withRetry(fn, Infinity, () => !!stopping || giveUp(), (e, attempt) => reach.onRetry(e, attempt));
    reach.reached();
    return r;
  }

  /** Register and the idle dequeue (no task held) are the only calls made through untilReached. */
  function giveUp(): boolean {
    if (o.exitIfUnreachableS === undefined || current || reach.unreachableForMs() < o.exitIfUnreachableS * 1000) return false;
    gaveUp = true;
    stopping = `the control plane was unreachable for ${o.exitIfUnreachableS}s while idle`;
    log(`${stopping}: signing off and exiting${ended ? ` (the end of task ${ended.taskId} was not reported: it returns to its queue when its lease runs out)` : ''}`);
    // The sign-off and the last report get the wrap-up's few seconds, not the unbounded retries of a reachable plane.
    stopBy = Date.now() + WRAP_UP_MS;
    setTimeout(stopDeadline, WRAP_UP_MS).unref();
    return true;
  }

  let running: Promise<void> | undefined;
  const run = () => (running ??= loop());

  let workFolder: string | undefined;

  async function loop(): Promise<void> {
    try {
      workFolder = prepareWorkFolder(o.workRoot ?? defaultWorkBase(), workerId, log);
    } catch (e) {
      // A default cache dir that cannot be written (a pod's read-only or foreign HOME): the temp dir, per user.
      if (o.workRoot) throw e;
      const fallback = join(tmpdir(), `flotilla-work-${process.getuid?.() ?? 'user'}`);
      log(`cannot use ${defaultWorkBase()} for task folders (${(e as Error).message}); using ${fallback}`);
      workFolder = prepareWorkFolder(fallback, workerId, log);
    }
    log(`starting: control plane ${client.server}, ${o.taskId ? `task ${o.taskId}` : `queues ${o.queues.join(', ')}`}, task folders in ${workFolder}`);
    // A host that cannot run tasks (--docker with a broken container runtime) does not take any: the agent ends here.
    if (executor.checkHost) await Promise.race([executor.checkHost(log), stopRequestedP]);
    if (stopping) return;
    if (executor.cleanUpHost) {
      await Promise.race([executor.cleanUpHost(log), stopRequestedP])
        .catch((e) => log(`could not clean up after earlier agents: ${(e as Error).message}`));
    }
    let reg;
    try {
      reg = await untilReached(() => client.register({ id: workerId, queues: o.queues, app: o.app, resource: o.resource, instanceId: o.instanceId }));
    } catch (e) {
      if (stopping) return; // stopped before the control plane ever answered: nothing to hand back
      throw e;
    }
    settings = reg.settings;
    log(`registered as worker ${workerId} on queues ${o.queues.join(', ')}`);
    const watch = new AbortController();
    if (o.interruptions) watchForInterruptions(o.interruptions, watch.signal, {
      log, client, workerId, report,
      noNewTask: (why) => {
        noNewTask = why;
        if (!current) polling.abort(); // only the idle long poll is in flight
      },
      interrupted: (why, reported, graceMs) => {
        interruptionReported = reported;
        return stopWith(why, graceMs, why);
      },
    });
    let idleSince = clock.now();
    while (!stopping) {
      if (noNewTask) {
        log(`${noNewTask}: taking no new task; signing off`);
        break;
      }
      const idleLeft = o.idleExitS === undefined ? Infinity : idleSince + o.idleExitS * 1000 - clock.now();
      if (idleLeft <= 0) {
        log(`idle for ${o.idleExitS}s: exiting`);
        break;
      }
      const d = await nextTask(Math.min(DEFAULT_TIMINGS.agentPollMs, idleLeft));
      if (!d) {
        if (o.taskId && (await taskEnded(o.taskId))) break;
        continue;
      }
      await runTask(d);
      idleSince = clock.now();
      if (o.once || o.taskId) break;
    }
    // Not sent with a dequeue (last task, or stopped meanwhile): a report that already arrived is a 409, ignored.
    const last = ended;
    if (last) {
      await report(() => client.finish(last.taskId, last.leaseId, last)).catch((e) =>
        log(`task ${last.taskId}: could not report its end (${(e as Error).message}); it returns to its queue when its lease runs out`));
    }
    watch.abort();
    // The control plane hears of the interruption before the worker signs off (the instance is marked first).
    await untilStopDeadline(interruptionReported);
    await report(() => client.stopWorker(workerId), 5).catch(() => undefined);
    // No task runs any more: the worker's folder goes (the next agent of this id would empty it anyway).
    rmSync(workFolder, { recursive: true, force: true });
  }

  /** Sends `ended` along; it is cleared once the server answered (or found the lease stale). */
  async function nextTask(waitMs: number): Promise<Dequeued | undefined> {
    const body = { queues: o.queues, taskId: o.taskId, waitMs: Math.floor(waitMs) };
    try {
      const finished = ended;
      if (finished) {
        try {
          const d = await untilReached(() => client.dequeue(workerId, { ...body, finished }, polling.signal));
          ended = undefined;
          return d;
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e;
          ended = undefined;
          log(`task ${finished.taskId}: its end was recorded already, or its lease had run out`);
        }
      }
      return await untilReached(() => client.dequeue(workerId, body, polling.signal));
    } catch (e) {
      if (stopping) return undefined;
      if ((e as Error).name === 'AbortError') return undefined;
      if (e instanceof ApiError && e.status === 410) {
        stopping = 'stopped by the control plane';
        log(e.message);
        return undefined;
      }
      throw e;
    }
  }

  async function taskEnded(id: string): Promise<boolean> {
    const t = await client.request<{ status: string }>('GET', `/api/v1/tasks/${id}`).catch(() => null);
    return !t || !['queued', 'scheduled'].includes(t.status);
  }

  async function runTask(d: Dequeued): Promise<void> {
    const { task, lease } = d;
    const workDir = mkdtempSync(join(workFolder!, `task-${task.id.replace(/[^A-Za-z0-9_.-]/g, '_')}-`));
    const shipper = new LogShipper(client, task.id, lease.id, o.transformOutput);
    // A flush retries for up to ~100 s; once the agent is stopping, only until its deadline.
    const flush = () => untilStopDeadline(shipper.flush());
    current = { d, shipper };
    let aborted = false;
    let leaseLost = false;
    const abortRequested = async () => {
      if (aborted) return;
      aborted = true;
      shipper.write('system', 'flotilla: abort requested; stopping the task\n');
      await current?.exec?.stop(graceMs);
    };
    // An abort reaches the agent at once through a long poll held open while the task runs; the heartbeat's
    // answer says it too (a control plane without the route, or a poll between two requests).
    const watching = new AbortController();
    void watchForAbort(task.id, lease.id, watching.signal, abortRequested);
    const beat = setInterval(async () => {
      try {
        const hb = await withRetry(() => client.heartbeat(task.id, lease.id), 3);
        if (hb.abort) await abortRequested();
      } catch (e) {
        if (e instanceof ApiError && e.status === 409 && !leaseLost) {
          leaseLost = true;
          log(`task ${task.id}: lease lost; stopping it`);
          await current?.exec?.stop(graceMs);
        }
      }
    }, settings.heartbeatMs);
    try {
      // A stop does not wait for the preparation (a clone, secrets from a control plane that may be gone).
      const preparing = o.prepare?.(d, workDir, shipper);
      preparing?.catch(() => undefined); // still running when a stop won the race: its failure no longer matters
      const prepared = preparing ? await Promise.race([preparing, stopRequestedP]) : undefined;
      if (stopping) return await handBack(d, shipper);
      // After prepare: an app's secrets, fetched there, are masked in this line too.
      log(`task ${task.id} (${task.name}) started, attempt ${task.attempts}`);
      const exec = await executor.start({
        taskId: task.id, leaseId: lease.id, command: prepared?.command ?? task.spec.command ?? '', env: { ...task.spec.env, ...interruptionEnv(o.interruptions) }, workDir,
        image: task.spec.image, container: task.spec.container,
        onOutput: (stream, text) => shipper.write(stream, text),
      });
      current.exec = exec;
      if (aborted) void exec.stop(graceMs); // the abort came while the task was being prepared
      const res = await exec.done;
      // Stopping: handBack flushes for at most the grace period (the control plane may be down, and a full
      // flush retries for up to ~100 s before the agent could exit).
      if (stopping && !aborted && !leaseLost) return await handBack(d, shipper);
      await flush();
      if (leaseLost) return;
      const status = aborted ? 'aborted' : res.exitCode === 0 ? 'completed' : 'failed';
      const message = aborted ? 'aborted by user' : res.exitCode === 0 ? undefined
        : res.message ?? (res.exitCode !== null ? `exit code ${res.exitCode}` : `killed by signal ${res.signal}`);
      ended = { taskId: task.id, leaseId: lease.id, status, exitCode: res.exitCode, message };
      log(`task ${task.id} ${status}${message ? ` (${message})` : ''}`);
    } catch (e) {
      await flush();
      // The control plane refuses U+0000 in a message; an error may quote the task's output.
      const message = showNul((e as Error).message).slice(0, 2000);
      if (!leaseLost) await report(() => client.finish(task.id, lease.id, { status: 'failed', exitCode: null, message }));
      log(`task ${task.id} failed before it ran: ${(e as Error).message}`);
    } finally {
      watching.abort();
      clearInterval(beat);
      current = null;
      rmSync(workDir, { recursive: true, force: true });
    }
  }

  /**
   * Long-polls the control plane for an abort of the running task until `signal` (the task's end). A stale lease
   * (409) or a control plane without the route (404) ends the watch: the heartbeat sees to those. Other failures
   * (the control plane restarting) are retried with the agent's back-off.
   */
  async function watchForAbort(taskId: string, leaseId: string, signal: AbortSignal, onAbort: () => Promise<void>) {
    const failures = new Backoff(BACKOFF.agent);
    while (!signal.aborted && !stopping) {
      try {
        const r = await client.waitAbort(taskId, leaseId, DEFAULT_TIMINGS.agentPollMs, AbortSignal.any([signal, polling.signal]));
        failures.reset();
        if (r.abort) return await onAbort();
      } catch (e) {
        if (signal.aborted || stopping || (e as Error).name === 'AbortError') return;
        if (e instanceof ApiError && e.status < 500 && e.status !== 429) return;
        await sleep(failures.next());
      }
    }
  }

  /**
   * Stopping (the machine may be going away): try for a few seconds only. When the server cannot be
   * reached, the lease runs out and the task goes back to its queue anyway; retrying forever hung the agent.
   */
  async function handBack(d: Dequeued, shipper: LogShipper) {
    // One deadline for the whole stop: log flush and release share what is left of it (the flush half of it).
    await Promise.race([shipper.flush(), sleep(Math.max(0, (stopBy - Date.now()) / 2))]);
    await untilStopDeadline(interruptionReported);
    try {
      const reason = handBackReason ?? `agent ${workerId} stopped: ${stopping}`;
      await report(() => client.release(d.task.id, d.lease.id, showNul(reason).slice(0, 500)), 6);
      log(`task ${d.task.id} handed back to its queue`);
    } catch (e) {
      log(`task ${d.task.id}: could not hand it back (${(e as Error).message}); it returns to its queue when its lease runs out`);
    }
  }

  /**
   * A 409 means the lease is gone (the task was recovered elsewhere): nothing more to report. Once the agent
   * is stopping, retries (and their back-off waits) end at its deadline.
   */
  async function report(fn: () => Promise<unknown>, tries = Infinity) {
    try {
      await retry(fn, {
        policy: BACKOFF.agent, attempts: tries, shouldRetry: isTransient, shouldStop: () => Date.now() >= stopBy,
        sleep: (ms) => sleep(Math.max(0, Math.min(ms, stopBy - Date.now()))),
      });
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 409)) throw e;
    }
  }

  const stop = (reason: string) => stopWith(reason, graceMs, null);

  /** `grace`: what the task gets after SIGTERM; `releaseAs`: the reason its queue records when it goes back. */
  async function stopWith(reason: string, grace: number, releaseAs: string | null): Promise<void> {
    if (stopping) return;
    stopping = reason;
    handBackReason = releaseAs;
    const budget = grace + Math.min(grace, WRAP_UP_MS);
    stopBy = Date.now() + budget;
    setTimeout(stopDeadline, budget).unref();
    stopRequested();
    polling.abort();
    if (current?.exec) await current.exec.stop(grace);
    // Resolves once the task was handed back and the worker signed off.
    await running?.catch(() => undefined);
  }

  return { run, stop, stopBudgetMs, gaveUp: () => gaveUp };
}

export { sleep };
