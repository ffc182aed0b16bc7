// ContainerExecutor against real podman (scripts/ensure-podman.sh installs it and builds the images).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerExecutor, containerName, type ContainerExecutorOptions } from '../src/agent/executors/container.js';
import type { ExecResult, ExecSpec, Execution } from '../src/agent/executors/types.js';
import { storageCredentials, GCP_CREDENTIALS_PATH } from '../src/agent/storage-credentials.js';
import { ensurePodman, podmanContainers, TEST_IMAGE, TEST_IMAGE_ALT } from './support/podman.js';
import { sawCommand, startProcScan } from './support/proc.js';
import { waitFor } from './support/wait.js';

let root: string;
const runId = randomBytes(3).toString('hex');
let n = 0;

interface Started {
  execution: Execution;
  output: { stdout: string; stderr: string };
  taskId: string;
}

async function start(opts: ContainerExecutorOptions, spec: Partial<ExecSpec> & { command: string }): Promise<Started> {
  const taskId = `ctest-${runId}-${++n}`;
  const workDir = join(root, taskId);
  mkdirSync(workDir);
  const output = { stdout: '', stderr: '' };
  const execution = await new ContainerExecutor({ runtime: 'podman', ...opts }).start({
    taskId,
    env: {},
    workDir,
    onOutput: (stream, text) => (output[stream] += text),
    ...spec,
  });
  return { execution, output, taskId };
}

async function runToEnd(opts: ContainerExecutorOptions, spec: Partial<ExecSpec> & { command: string }) {
  const s = await start(opts, spec);
  const result: ExecResult = await s.execution.done;
  return { ...s, result };
}

before(() => {
  ensurePodman();
  root = mkdtempSync(join(tmpdir(), 'flotilla-ctest-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('ContainerExecutor with real podman', () => {
  test('runs the command in a container with the working copy as working directory', async () => {
    const r = await runToEnd(
      { agentImage: TEST_IMAGE },
      { command: 'test -f /run/.containerenv && echo in-container; pwd; echo made > output.txt' },
    );
    assert.deepEqual(r.result.exitCode, 0, r.output.stderr);
    assert.equal(r.output.stdout, 'in-container\n/workspace\n');
    assert.equal(readFileSync(join(root, r.taskId, 'output.txt'), 'utf8'), 'made\n');
    assert.deepEqual(podmanContainers(containerName(r.taskId)), [], 'container removed');
  });

  test('task image, agent image and --no-task-image-override', async () => {
    const which = async (opts: ContainerExecutorOptions, image?: string) =>
      (await runToEnd(opts, { command: 'cat /image-name', image })).output.stdout.trim();
    assert.equal(await which({ agentImage: TEST_IMAGE }), 'flotilla-test');
    assert.equal(await which({ agentImage: TEST_IMAGE }, TEST_IMAGE_ALT), 'flotilla-test-alt');
    assert.equal(await which({ defaultImage: TEST_IMAGE_ALT }), 'flotilla-test-alt');
    assert.equal(await which({ agentImage: TEST_IMAGE, noTaskImageOverride: true }, TEST_IMAGE_ALT), 'flotilla-test');
  });

  test('task env and container env reach the command verbatim; its exit code is the task exit code', async () => {
    const r = await runToEnd(
      { agentImage: TEST_IMAGE },
      {
        command: 'printf "%s|%s|%s|%s\\n" "$PLAIN" "$TRICKY" "$MULTI" "$FROM_CONTAINER"; echo "id=$FLOTILLA_TASK_ID"; exit 7',
        env: { PLAIN: 'hello', TRICKY: ` spaces "quotes" it's x=y #no-comment `, MULTI: 'line one\nline two' },
        container: { env: { FROM_CONTAINER: 'ctr' } },
      },
    );
    assert.equal(r.result.exitCode, 7);
    assert.equal(r.output.stdout, `hello| spaces "quotes" it's x=y #no-comment |line one\nline two|ctr\nid=${r.taskId}\n`);
  });

  test('a command that is not found exits 127 and says so on stderr', async () => {
    const r = await runToEnd({ agentImage: TEST_IMAGE }, { command: 'no-such-program' });
    assert.equal(r.result.exitCode, 127);
    assert.match(r.output.stderr, /no-such-program.*not found/);
  });

  test('stop() ends a running container and removes it', async () => {
    const s = await start({ agentImage: TEST_IMAGE }, { command: 'echo started; sleep 300' });
    await waitFor('the container to start', () => s.output.stdout.includes('started'), 30_000);
    assert.deepEqual(podmanContainers(containerName(s.taskId)), [containerName(s.taskId)]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('stop() did not end the container within 30 s')), 30_000);
    });
    await Promise.race([s.execution.stop(1000), deadline]).finally(() => clearTimeout(timer));
    const result = await s.execution.done;
    assert.notEqual(result.exitCode, 0);
    assert.deepEqual(podmanContainers(containerName(s.taskId)), [], 'container removed');
  });

  test('env values never appear on any command line', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const scan = startProcScan({ needles: [canary] });
    const r = await runToEnd({ agentImage: TEST_IMAGE }, { command: 'echo "$SECRET" | wc -c; sleep 1', env: { SECRET: canary } });
    const report = await scan.stop();
    assert.equal(r.result.exitCode, 0);
    assert.equal(r.output.stdout.trim(), String(canary.length + 1), 'the value did reach the container');
    assert.ok(sawCommand(report, /podman run .*flotilla-ctest/), `the scan saw podman run (${report.passes} passes)`);
    assert.deepEqual(report.hits, []);
  });

  test('storage credentials are visible inside the container and in no host process', async () => {
    const secretKey = `aws-secret-${randomBytes(8).toString('hex')}`;
    const privateKey = `pem-${randomBytes(8).toString('hex')}`;
    const credentials = storageCredentials({
      aws: { accessKeyId: 'AKIATEST', secretAccessKey: secretKey, region: 'eu-west-1' },
      gcp: { serviceAccountJson: JSON.stringify({ type: 'service_account', private_key: privateKey }) },
    });
    const scan = startProcScan({ needles: [secretKey, privateKey], environ: true });
    const r = await runToEnd(
      { agentImage: TEST_IMAGE, credentials },
      { command: 'echo "$AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY $AWS_DEFAULT_REGION"; cat "$GOOGLE_APPLICATION_CREDENTIALS"; echo; echo > "$GOOGLE_APPLICATION_CREDENTIALS" || echo read-only; sleep 1' },
    );
    const report = await scan.stop();
    assert.equal(r.result.exitCode, 0, r.output.stderr);
    assert.equal(r.output.stdout.split('\n')[0], `AKIATEST ${secretKey} eu-west-1`);
    assert.match(r.output.stdout, new RegExp(`"private_key":"${privateKey}"`));
    assert.match(r.output.stdout, /read-only/, `${GCP_CREDENTIALS_PATH} is mounted read-only`);
    assert.ok(sawCommand(report, /podman run/), 'the scan saw podman run');
    assert.deepEqual(report.hits, [], 'no host process has a credential in its argv or env');
    assert.equal(process.env.AWS_SECRET_ACCESS_KEY, undefined);
  });

  test('allowed mounts are mounted; others are refused before anything runs', async () => {
    const shared = join(root, `shared-${runId}`);
    mkdirSync(shared);
    writeFileSync(join(shared, 'data.txt'), 'shared data\n');
    const r = await runToEnd(
      { agentImage: TEST_IMAGE, allowedMounts: [root] },
      { command: 'cat /data/data.txt', container: { mounts: [`${shared}:/data:ro`] } },
    );
    assert.equal(r.output.stdout, 'shared data\n');
    await assert.rejects(
      start({ agentImage: TEST_IMAGE, allowedMounts: [shared] }, { command: 'true', container: { mounts: ['/etc:/host-etc'] } }),
      /\/etc is not under an allowed mount directory/,
    );
  });
});
