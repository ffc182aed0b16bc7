import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseColumnMap, parseTrace, routeJob } from './trace.js';
import { loadAppConfig, loadTrace } from './load.js';

const HEADER = 'job_id,submission_time,duration,num_gpu';

test('an ElasticFlow trace parses into jobs with their line numbers', () => {
  const jobs = parseTrace(`${HEADER}\r\na,0,600,1\r\nb,11,1200,8\r\n`);
  assert.deepEqual(jobs, [
    { id: 'a', line: 2, submitS: 0, durationS: 600, gpus: 1 },
    { id: 'b', line: 3, submitS: 11, durationS: 1200, gpus: 8 },
  ]);
});

const bad: [string, string, RegExp][] = [
  ['missing column', 'job_id,submission_time,num_gpu\na,0,1', /t\.csv: line 1: missing column "duration" .*--columns duration=COLUMN/],
  ['negative duration', `${HEADER}\na,0,600,1\nb,5,-3,1`, /t\.csv: line 3: duration is -3; a duration must be 0 or more/],
  ['unsorted rows', `${HEADER}\na,0,600,1\nb,50,600,1\nc,40,600,1`, /t\.csv: line 4: submission_time 40 comes before the previous row's 50; sort the file by submission_time/],
  ['not a number', `${HEADER}\na,zero,600,1`, /t\.csv: line 2: submission_time "zero" is not a number/],
  ['short row', `${HEADER}\na,0,600`, /t\.csv: line 2: 3 fields where the header has 4/],
];
for (const [name, text, message] of bad)
  test(`bad trace: ${name} is refused naming the line`, () => {
    assert.throws(() => parseTrace(text, undefined, 't.csv'), message);
  });

test('any CSV with a column mapping, including a queue column', () => {
  const columns = parseColumnMap('id=name,submit=t,duration=secs,queue=q');
  const jobs = parseTrace('name,t,secs,q\nx,1,60,gpu1\ny,2,60,nowhere', columns);
  const queues = new Set(['gpu1']);
  assert.equal(routeJob(jobs[0]!, [], queues), 'gpu1');
  assert.equal(routeJob(jobs[1]!, [], queues), undefined);
  assert.throws(() => parseColumnMap('when=t'), /"when=t" is not KEY=COLUMN/);
});

test('routing by GPU count: first matching rule wins, above every rule is skipped', () => {
  const rules = [
    { queue: 'gpu1', minGpus: 1, maxGpus: 1 },
    { queue: 'gpu4', minGpus: 2, maxGpus: 4 },
    { queue: 'gpu8', minGpus: 8, maxGpus: 8 },
  ];
  const q = new Set(['gpu1', 'gpu4', 'gpu8']);
  const job = (gpus: number) => ({ id: 'j', line: 2, submitS: 0, durationS: 1, gpus });
  assert.deepEqual([1, 2, 4, 8, 16].map((g) => routeJob(job(g), rules, q)), ['gpu1', 'gpu4', 'gpu4', 'gpu8', undefined]);
});

test('files: the shipped example config loads; a bad config names the field; a missing trace names the file', () => {
  const cfg = loadAppConfig(fileURLToPath(new URL('../../deploy/examples/sim-gpu.yaml', import.meta.url)));
  assert.deepEqual(cfg.resources.map((r) => [r.instanceType, r.pricePerHour]), [['g5.xlarge', 1.006], ['g5.12xlarge', 5.672], ['p4d.24xlarge', 32.77]]);
  assert.equal(cfg.timings.idleTimeoutS, cfg.simulation?.bootTime.seconds);
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-sim-'));
  try {
    const path = join(dir, 'app.yaml');
    writeFileSync(path, 'name: x\nprovider: {kind: simulated}\nresources: [{name: g, instanceType: t, pricePerHour: -1, maxInstances: 1}]\nqueues: {q: [g]}\n');
    assert.throws(() => loadAppConfig(path), /app\.yaml is not a valid autoscaler app config:\n {2}resources\.0\.pricePerHour: /);
    assert.throws(() => loadTrace(join(dir, 'none.csv')), /cannot read the trace file .*none\.csv: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
