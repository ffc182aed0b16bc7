// Kill -9 soak: rounds of enqueue bursts with the control plane, agents (and, on the cloud providers, the
// control plane in the middle of launches; with Kubernetes, the glue and pods) killed at random points; local
// provider, AWS on moto_server, the simulated provider and the Kubernetes glue on the fake API server, on SQLite and
// PostgreSQL. npm test runs 3 rounds; `npm run test:chaos` 50 (CHAOS_ROUNDS). Each round must end with 0 lost,
// 0 run twice, 0 orphans, 0 double launches, cap held (dollars, or pods at once for Kubernetes).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chaosRng, chaosRounds } from './rng.js';
import { report } from './report.js';
import { localRound } from './soak-local.js';
import { awsRound, startAwsRounds, type AwsRounds } from './soak-aws.js';
import { simRound } from './soak-sim.js';
import { k8sRound } from './soak-k8s.js';
import type { Dialect, RoundFigures } from './soak.js';

// In this order, so the 3 rounds of npm test cover each autoscaler provider and both stores; the long form adds the
// Kubernetes glue on both (CHAOS_SOAK_KINDS=k8s runs only those, in npm test's 3 rounds too).
const PLAN: [string, Dialect][] = [['local', 'sqlite'], ['aws', 'postgres'], ['simulated', 'postgres'], ['k8s', 'sqlite'],
  ['local', 'postgres'], ['aws', 'sqlite'], ['simulated', 'sqlite'], ['k8s', 'postgres']];
const only = process.env.CHAOS_SOAK_KINDS?.split(',');
const plan = only ? PLAN.filter(([k]) => only.includes(k)) : PLAN;

let aws: AwsRounds | undefined;
before(async () => {
  if (plan.some(([k]) => k === 'aws')) aws = await startAwsRounds();
});
after(async () => aws?.stop());

test('kill -9 soak: nothing acknowledged is lost, no side effect twice, no orphan, no double launch, cap held', async () => {
  const r = chaosRng('soak');
  const rounds = chaosRounds(3);
  const all: RoundFigures[] = [];
  for (let i = 0; i < rounds; i++) {
    const [kind, dialect] = plan[i % plan.length];
    const f = kind === 'local' ? await localRound(r, dialect, i) : kind === 'aws' ? await awsRound(aws!, r, dialect, i)
      : kind === 'k8s' ? await k8sRound(r, dialect, i) : await simRound(r, dialect, i);
    process.stderr.write(`chaos soak round ${i + 1}/${rounds}: ${JSON.stringify(f)}\n`);
    all.push(f);
  }
  const sum = (k: keyof RoundFigures) => all.reduce((n, f) => n + Number(f[k]), 0);
  const overBudget = all.filter((f) => f.maxSpend > f.cap + 1e-9).length;
  const overPods = all.filter((f) => (f.maxPods ?? 0) > (f.podCap ?? Infinity)).length;
  const byKind: Record<string, number> = {};
  for (const f of all) for (const [k, v] of Object.entries(f.killsByKind ?? {})) byKind[k] = (byKind[k] ?? 0) + v;
  const k8s = all.filter((f) => f.kind === 'k8s');
  const k8sNote = k8s.length ? `; k8s: kills ${Object.entries(byKind).map(([k, v]) => `${k} ${v}`).join(', ')}, ` +
    `max pods ${Math.max(...k8s.map((f) => f.maxPods ?? 0))} of ${k8s[0].podCap}, ${k8s.reduce((n, f) => n + (f.failedByKill ?? 0), 0)} failed by an agent kill, ` +
    `${k8s.reduce((n, f) => n + (f.secretsLeft ?? 0), 0)} Secrets left, ${k8s.reduce((n, f) => n + (f.doublePods ?? 0), 0)} tasks with two pods at once` : '';
  report({
    part: 'kill -9 soak', rounds, kills: sum('kills'),
    notes: `${sum('acked')} tasks acknowledged; ${sum('killedAfterEffect')} agent kills fell after a side effect, before its report; ` +
      `kinds ${[...new Set(all.map((f) => `${f.kind}/${f.dialect}`))].join(' ')}; ${Math.round(sum('seconds'))} s${k8sNote}`,
    zeros: { lost: sum('lost'), twice: sum('twice'), orphans: sum('orphans'), doubleLaunch: sum('doubleLaunch'), overBudget, overPods },
  });
  for (const f of all) {
    const where = `seed ${r.seed}, ${f.kind}/${f.dialect}`;
    assert.equal(f.lost, 0, `${where}: acknowledged tasks lost`);
    assert.equal(f.twice, 0, `${where}: side effects run twice`);
    assert.equal(f.orphans, 0, `${where}: machines without a record`);
    assert.equal(f.doubleLaunch, 0, `${where}: decisions that launched twice`);
    assert.ok(f.maxSpend <= f.cap + 1e-9, `${where}: $${f.maxSpend}/h running over the $${f.cap}/h cap`);
    if (f.podCap !== undefined) assert.ok(f.maxPods! <= f.podCap, `${where}: ${f.maxPods} pods at once over the queue's maxPods ${f.podCap}`);
  }
  assert.ok(sum('kills') >= rounds, 'every round killed something');
});
