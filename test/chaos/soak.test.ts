// Kill -9 soak: rounds of enqueue bursts with the control plane, agents (and, on the cloud providers, the
// control plane in the middle of launches) killed at random points; local provider, AWS on moto_server and
// the simulated provider, on SQLite and PostgreSQL. npm test runs 3 rounds; `npm run test:chaos` 50
// (CHAOS_ROUNDS). Each round must end with 0 lost, 0 run twice, 0 orphans, 0 double launches, cap held.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chaosRng, chaosRounds } from './rng.js';
import { report } from './report.js';
import { localRound } from './soak-local.js';
import { awsRound, startAwsRounds, type AwsRounds } from './soak-aws.js';
import { simRound } from './soak-sim.js';
import type { Dialect, RoundFigures } from './soak.js';

// In this order, so the 3 rounds of npm test cover each provider and both stores.
const PLAN: [string, Dialect][] = [['local', 'sqlite'], ['aws', 'postgres'], ['simulated', 'postgres'],
  ['local', 'postgres'], ['aws', 'sqlite'], ['simulated', 'sqlite']];
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
    const f = kind === 'local' ? await localRound(r, dialect, i) : kind === 'aws' ? await awsRound(aws!, r, dialect, i) : await simRound(r, dialect, i);
    process.stderr.write(`chaos soak round ${i + 1}/${rounds}: ${JSON.stringify(f)}\n`);
    all.push(f);
  }
  const sum = (k: keyof RoundFigures) => all.reduce((n, f) => n + Number(f[k]), 0);
  const overBudget = all.filter((f) => f.maxSpend > f.cap + 1e-9).length;
  report({
    part: 'kill -9 soak', rounds, kills: sum('kills'),
    notes: `${sum('acked')} tasks acknowledged; ${sum('killedAfterEffect')} agent kills fell after a side effect, before its report; ` +
      `kinds ${[...new Set(all.map((f) => `${f.kind}/${f.dialect}`))].join(' ')}; ${Math.round(sum('seconds'))} s`,
    zeros: { lost: sum('lost'), twice: sum('twice'), orphans: sum('orphans'), doubleLaunch: sum('doubleLaunch'), overBudget },
  });
  for (const f of all) {
    const where = `seed ${r.seed}, ${f.kind}/${f.dialect}`;
    assert.equal(f.lost, 0, `${where}: acknowledged tasks lost`);
    assert.equal(f.twice, 0, `${where}: side effects run twice`);
    assert.equal(f.orphans, 0, `${where}: machines without a record`);
    assert.equal(f.doubleLaunch, 0, `${where}: decisions that launched twice`);
    assert.ok(f.maxSpend <= f.cap + 1e-9, `${where}: $${f.maxSpend}/h running over the $${f.cap}/h cap`);
  }
  assert.ok(sum('kills') >= rounds, 'every round killed something');
});
