// A kill -9 soak round with the aws provider against moto_server: the control plane is killed with SIGKILL
// while enqueue bursts make it launch, and started again on the same store. Machines never run an agent here
// (moto runs nothing), so the round checks the books: tasks kept, every machine owned, none launched twice,
// and the $/h of what moto really runs never over the cap.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TerminateInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { createTestDb } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { awsApp, live, machinesOf, motoClient } from '../helpers/aws-e2e.js';
import { status } from '../autoscaler/helpers.js';
import { CpProcess, freePort } from './cp-process.js';
import type { Rng } from './rng.js';
import { burstsWithKills, counts, watchSpend, type Dialect, type RoundFigures } from './soak.js';

const PRICE = 0.01; // awsApp's t3.micro
const CAP = 0.035; // binds at 3 machines of the 6 the app may have

export interface AwsRounds { moto: Moto; ec2: EC2Client; stop(): Promise<void> }

export async function startAwsRounds(): Promise<AwsRounds> {
  const moto = await startMoto();
  return { moto, ec2: motoClient(moto.url), stop: () => moto.stop() };
}

export async function awsRound(aws: AwsRounds, r: Rng, dialect: Dialect, n: number): Promise<RoundFigures> {
  const t0 = Date.now();
  const db = await createTestDb(dialect);
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-soak-aws-'));
  const app = `soak-aws-${process.pid}-${n}`;
  const cp = new CpProcess(db.url, dir, await freePort(), { AWS_ENDPOINT_URL: aws.moto.url });
  let kills = 0;
  const spend = watchSpend(async () => live(await machinesOf(aws.ec2, app)).length * PRICE);
  try {
    await cp.start();
    await cp.admin().putSecret('aws-creds', 'aws', { accessKeyId: 'testing', secretAccessKey: 'soak-not-secret' });
    await cp.admin().request('PUT', `/api/v1/autoscalers/${app}`, {
      ...awsApp({ name: app, queue: 'soak', maxInstances: 6, bootTimeoutS: 300, settings: { credentialsSecret: 'aws-creds' } }),
      budget: { maxPerHour: CAP },
    });
    const acked = await burstsWithKills(r, {
      client: () => cp.admin(), queue: 'soak', bursts: 2, command: 'true',
      kill: async () => {
        kills++;
        await cp.restart(r.int(0, 500));
      },
    });
    const tasks = await Promise.all(acked.map((id) => cp.admin().getTask(id).catch(() => undefined)));
    const lost = tasks.filter((t) => !t || !['queued', 'running'].includes(t.status)).length;
    let orphans = 0;
    await waitFor('every live machine owned by a live record', async () => {
      const { instances } = await status(cp.admin(), app);
      const owned = new Set(instances.map((i) => i.providerId));
      orphans = live(await machinesOf(aws.ec2, app)).filter((m) => !owned.has(m.id)).length;
      return orphans === 0;
    }, 30_000, 200).catch(() => undefined);
    const perRecord = counts((await machinesOf(aws.ec2, app)).map((m) => m.tags['flotilla-instance']));
    const doubleLaunch = [...perRecord.values()].filter((c) => c > 1).length;
    return { kind: 'aws', dialect, kills, acked: acked.length, lost, twice: 0, killedAfterEffect: 0, orphans, doubleLaunch,
      maxSpend: await spend.stop(), cap: CAP, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await spend.stop();
    await cp.stop();
    const left = live(await machinesOf(aws.ec2, app)).map((m) => m.id);
    if (left.length) await aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: left }));
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
