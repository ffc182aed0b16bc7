// What the end-to-end AWS tests look at in moto: the machines carrying an app's tags, the user data a
// machine got (and the one-time token in it), and an app document to apply through the API.
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  TerminateInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';

export const MOTO_AMI = 'ami-04681a1dbd79675a5';

export function motoClient(url: string): EC2Client {
  return new EC2Client({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
}

export interface Machine {
  id: string;
  state: string;
  tags: Record<string, string>;
  spot: boolean;
  subnet?: string;
}

const toMachine = (i: Instance): Machine => ({
  id: i.InstanceId!,
  state: i.State?.Name ?? '',
  tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!])),
  spot: i.InstanceLifecycle === 'spot',
  subnet: i.SubnetId,
});

/** Every machine carrying the app's tag, terminated ones too (moto keeps listing them). */
export async function machinesOf(ec2: EC2Client, app: string): Promise<Machine[]> {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:flotilla-app', Values: [app] }] }));
  return (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map(toMachine));
}

export const live = (ms: Machine[]) => ms.filter((m) => m.state !== 'terminated');

/** The cloud taking a machine away (a spot reclaim), behind the control plane's back. */
export async function reclaim(ec2: EC2Client, id: string): Promise<void> {
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
}

/** The machine's start-up script as the cloud delivered it. */
export async function userDataOf(ec2: EC2Client, id: string): Promise<string> {
  const attr = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'userData' }));
  return Buffer.from(attr.UserData?.Value ?? '', 'base64').toString('utf8');
}

/** The one-time bootstrap token a launch wrote into the machine's start-up script. */
export function bootstrapTokenIn(script: string): string {
  const m = /^BOOTSTRAP_TOKEN='([^']+)'$/m.exec(script);
  if (!m) throw new Error('the start-up script has no BOOTSTRAP_TOKEN line');
  return m[1];
}

/** Calls a bootstrap endpoint as a machine's start-up script does. */
export async function exchange(server: string, token: string, instanceId: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server}/api/v1/bootstrap/exchange`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ instanceId }),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

export interface AwsAppOptions {
  name: string;
  settings: Record<string, unknown>;
  spot?: boolean;
  zones?: string[];
  maxInstances?: number;
  bootTimeoutS?: number;
  queue?: string;
}

/** An aws app document as a user applies it (`flotilla autoscaler apply -f`). */
export function awsApp(o: AwsAppOptions): Record<string, unknown> {
  return {
    name: o.name,
    provider: { kind: 'aws', settings: { region: 'us-east-1', ...o.settings } },
    resources: [{
      name: 'cpu', instanceType: 't3.micro', spot: o.spot ?? false, onDemandFallback: true, pricePerHour: 0.01,
      maxInstances: o.maxInstances ?? 2, ...(o.zones ? { zones: o.zones } : {}), launch: { ami: MOTO_AMI },
    }],
    queues: { [o.queue ?? 'aws-cpu']: ['cpu'] },
    timings: { bootTimeoutS: o.bootTimeoutS ?? 60, idleTimeoutS: 60, capacityCooldownS: 300 },
  };
}
