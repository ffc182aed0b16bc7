// Strict configuration: an unknown key anywhere in an app file (or a provider's settings, or the simulation
// section) is refused, named with its path and the nearest known key. The glue and agent files have their
// own tests beside them (src/k8s/config.test.ts, src/agent/agent-config.test.ts); the API in test/autoscaler/api.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfigSchema } from '../src/domain/autoscaler/config.js';
import { checkConfig, editDistance, nearestKey, parseDroppingUnknownKeys } from '../src/domain/config-keys.js';
import { settingsIssues } from '../src/autoscaler/providers/validate.js';
import { AwsLaunchSchema, AwsSettingsSchema } from '../src/autoscaler/providers/aws/settings.js';
import { GcpLaunchSchema } from '../src/autoscaler/providers/gcp/settings.js';
import { loadAppConfig } from '../src/sim/load.js';

const app = {
  name: 'a', provider: { kind: 'local' }, queues: { q: ['r'] },
  resources: [{ name: 'r', instanceType: 'local', pricePerHour: 0, maxInstances: 1 }],
};
const messages = (v: unknown) => {
  const r = checkConfig(AppConfigSchema, v);
  return r.success ? [] : r.issues.map((i) => i.message);
};

test('the nearest known key is a likely typo, or none', () => {
  assert.equal(editDistance('budgett', 'budget'), 1);
  assert.equal(editDistance('maxInstnaces', 'maxInstances'), 1, 'a transposition counts once');
  assert.equal(nearestKey('maxInstancs', ['name', 'maxInstances', 'instanceType']), 'maxInstances');
  assert.equal(nearestKey('MaxPerHour', ['maxInstances', 'maxPerHour']), 'maxPerHour');
  assert.equal(nearestKey('colour', ['name', 'budget']), undefined);
});

test('an app file with an unknown key at the top level or nested is refused, naming key, path and suggestion', () => {
  assert.deepEqual(messages(app), []);
  assert.deepEqual(messages({ ...app, budgett: { maxPerHour: 3 } }), ['unknown key budgett at the top level; did you mean budget?']);
  assert.deepEqual(messages({ ...app, resources: [{ ...app.resources[0], maxInstancs: 2 }] }), [
    'unknown key maxInstancs at resources[0]; did you mean maxInstances?',
  ]);
  assert.deepEqual(messages({ ...app, budget: { maxPerHuor: 3 } }), ['unknown key maxPerHuor at budget; did you mean maxPerHour?']);
  assert.deepEqual(messages({ ...app, provider: { kind: 'local', setings: {} } }), ['unknown key setings at provider; did you mean settings?']);
  assert.deepEqual(messages({ ...app, execution: { image: 'x', colour: 'red' } }), [
    'unknown key colour at execution; known keys: image, startupScript, gitSecret, storageSecret, agentArgs',
  ]);
  assert.deepEqual(messages({ ...app, simulation: { faults: { capacityErrorRat: 0.1 }, route: [{ queue: 'q', minGPUs: 1 }] } }), [
    'unknown key minGPUs at simulation.route[0]; did you mean minGpus?',
    'unknown key capacityErrorRat at simulation.faults; did you mean capacityErrorRate?',
  ]);
  // Free-form maps stay open: provider settings and launch are the provider's to check.
  assert.deepEqual(messages({ ...app, provider: { kind: 'local', settings: { anything: 1 } }, resources: [{ ...app.resources[0], launch: { x: 1 } }] }), []);
});

test("a provider's settings and launch settings refuse an unknown key with the path in the app file", () => {
  assert.deepEqual(settingsIssues(AwsSettingsSchema, { region: 'us-east-1', regoin: 'x' }, 'provider.settings'), [
    { field: 'provider.settings.regoin', message: 'unknown key regoin at provider.settings; did you mean region?' },
  ]);
  assert.deepEqual(settingsIssues(AwsLaunchSchema, { ami: 'ami-1', rootVolume: { sizeGB: 10 } }, 'resources[0].launch'), [
    { field: 'resources[0].launch.rootVolume.sizeGB', message: 'unknown key sizeGB at resources[0].launch.rootVolume; did you mean sizeGb?' },
  ]);
  // Labels are a free-form map.
  assert.deepEqual(settingsIssues(GcpLaunchSchema, { labels: { team: 'ml' }, networkTag: ['x'] }, 'resources[1].launch'), [
    { field: 'resources[1].launch.networkTag', message: 'unknown key networkTag at resources[1].launch; did you mean networkTags?' },
  ]);
});

test('flotilla simulate refuses an app file with an unknown key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-strict-'));
  try {
    const path = join(dir, 'app.yaml');
    writeFileSync(path, 'name: a\nprovider: {kind: simulated}\nresources: [{name: r, instanceType: x, pricePerHour: 1, maxInstances: 1}]\nqueues: {q: [r]}\nbudgett: {maxPerHour: 3}\n');
    assert.throws(() => loadAppConfig(path), /unknown key budgett at the top level; did you mean budget\?/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an app stored before strictness still loads: keys it no longer knows are dropped, other faults still throw', () => {
  const stored = AppConfigSchema.parse(app);
  const loaded = parseDroppingUnknownKeys(AppConfigSchema, { ...stored, old: 1, resources: [{ ...stored.resources[0], gone: true }] });
  assert.deepEqual(loaded, stored);
  assert.throws(() => parseDroppingUnknownKeys(AppConfigSchema, { ...stored, old: 1, resources: [] }));
});
