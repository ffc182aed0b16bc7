import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusText, type Status } from './autoscaler.js';

test('autoscaler status shows the provider id of each instance (a booting one too), "-" before the cloud answered', () => {
  const now = Date.UTC(2026, 0, 1);
  const s: Status = {
    app: 'aws-moto', provider: 'aws', instancesByState: { booting: 1, requested: 1 }, queues: { 'aws-cpu': 1 },
    idleWorkers: 0, spendRatePerHour: 0.0208, spendTodayUsd: 0, spendMonthUsd: 0, budget: {},
    instances: [
      { id: 'inst-1', resource: 'cpu-small', state: 'booting', providerId: 'i-0abc123', launchedAt: now - 5000, worker: null, busy: false },
      { id: 'inst-2', resource: 'cpu-small', state: 'requested', providerId: null, launchedAt: now - 1000, worker: null, busy: false },
    ],
  };
  const lines = statusText(s, now).split('\n');
  assert.match(lines[0]!, /^app:\s+aws-moto \(aws\)$/);
  const header = lines.findIndex((l) => l.startsWith('INSTANCE'));
  assert.match(lines[header]!, /^INSTANCE\s+PROVIDER ID\s+RESOURCE\s+STATE\s+WORKER\s+BUSY\s+AGE$/);
  assert.match(lines[header + 1]!, /^inst-1\s+i-0abc123\s+cpu-small\s+booting\s+-\s+no\s+5s$/);
  assert.match(lines[header + 2]!, /^inst-2\s+-\s+cpu-small\s+requested/);
});
