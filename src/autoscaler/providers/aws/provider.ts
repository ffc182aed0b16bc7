// ComputeProvider for AWS EC2: RunInstances with tags at creation, list by tag, terminate.
import {
  CancelSpotInstanceRequestsCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances,
  type Instance,
  type InstanceStateName,
} from '@aws-sdk/client-ec2';
import { retry, type RetryOptions } from '../../../domain/backoff.js';
import { BACKOFF } from '../../../domain/timings.js';
import { parseSettings } from '../validate.js';
import {
  CapacityError,
  TAG,
  ThrottleError,
  type ComputeProvider,
  type LaunchRequest,
  type LaunchedInstance,
  type Market,
  type ProviderInstance,
  type ProviderState,
} from '../types.js';
import { awsErrorCode, isAwsCapacity, isAwsThrottle } from './errors.js';
import { buildRunInstancesInput } from './request.js';
import { AwsLaunchSchema, type AwsSettings } from './settings.js';

export interface AwsDeps {
  /** A ready client (tests: one with fault-injecting middleware). Default: built from the settings. */
  client?: EC2Client;
  /** Tests: `{ sleep: async () => {} }` so retries do not wait; a fixed `random` for a deterministic mode. */
  backoff?: Partial<Pick<RetryOptions, 'sleep' | 'random' | 'policy'>>;
  now?: () => Date;
}

// Stopped or stopping machines still exist and still need terminating: they are 'stopping', not gone.
const STATE: Record<InstanceStateName, ProviderState> = {
  pending: 'pending',
  running: 'running',
  'shutting-down': 'stopping',
  stopping: 'stopping',
  stopped: 'stopping',
  terminated: 'terminated',
};
const LIVE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];
const TERMINATE_BATCH = 1000;

/**
 * The SDK waits forever by default: an endpoint that accepts and never answers (a stuck proxy, a black-holed
 * route) would hold the reconciler's pass, and with it every decision of the app. Bounded, a stuck call fails,
 * the SDK retries it (its standard 3 attempts; RunInstances is idempotent by its client token), and then the
 * pass ends with the error in the journal and the next pass tries again.
 */
export const AWS_HTTP_TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 30_000, throwOnRequestTimeout: true };

export function ec2ClientFor(settings: AwsSettings, http: Partial<typeof AWS_HTTP_TIMEOUTS> = AWS_HTTP_TIMEOUTS): EC2Client {
  return new EC2Client({
    region: settings.region,
    requestHandler: { ...AWS_HTTP_TIMEOUTS, ...http },
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
  });
}

function tagsOf(instance: Instance): Record<string, string> {
  return Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

function toProviderInstance(instance: Instance): ProviderInstance {
  const tags = tagsOf(instance);
  const market: Market = instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand';
  return {
    providerId: instance.InstanceId ?? '',
    clientToken: tags[TAG.instance],
    resource: tags[TAG.resource],
    state: STATE[instance.State?.Name ?? 'pending'] ?? 'pending',
    launchedAt: instance.LaunchTime,
    offering: {
      instanceType: String(instance.InstanceType ?? ''),
      zone: instance.Placement?.AvailabilityZone,
      market,
    },
    tags,
  };
}

export class AwsProvider implements ComputeProvider {
  readonly kind = 'aws';
  private readonly client: EC2Client;
  private readonly backoff: Omit<RetryOptions, 'shouldRetry'>;
  private readonly now: () => Date;

  constructor(
    readonly settings: AwsSettings,
    deps: AwsDeps = {},
  ) {
    this.client = deps.client ?? ec2ClientFor(settings);
    this.backoff = { policy: BACKOFF.cloud, attempts: settings.throttleRetries + 1, ...deps.backoff };
    this.now = deps.now ?? (() => new Date());
  }

  /** Retries throttling with jitter; a throttle that outlasts the retries becomes a ThrottleError. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await retry(fn, { ...this.backoff, shouldRetry: isAwsThrottle });
    } catch (err) {
      if (!isAwsThrottle(err)) throw err;
      const code = awsErrorCode(err) ?? 'Throttling';
      throw new ThrottleError(`EC2 ${what} still throttled after ${this.backoff.attempts} attempts (${code})`, code);
    }
  }

  async launch(req: LaunchRequest): Promise<LaunchedInstance> {
    const launch = parseSettings(AwsLaunchSchema, req.launch, `aws launch settings of resource "${req.resource}"`);
    const input = buildRunInstancesInput(req, launch);
    // EC2 honours ClientToken, but not every EC2 API does (moto makes two machines of one token), and a token's
    // idempotency window is not forever: our own tag check makes "one token, one machine" hold either way.
    const known = await this.findByToken(req.appId, req.clientToken);
    if (known) return { providerId: known.providerId, offering: req.offering, state: known.state };
    try {
      const out = await this.call('RunInstances', () => this.client.send(new RunInstancesCommand(input)));
      const instance = out.Instances?.[0];
      if (!instance?.InstanceId) throw new Error('EC2 RunInstances answered without an instance');
      return { providerId: instance.InstanceId, offering: req.offering, state: toProviderInstance(instance).state };
    } catch (err) {
      if (!isAwsCapacity(err)) throw err;
      const code = awsErrorCode(err) ?? 'capacity';
      const where = req.offering.zone ?? 'default zone';
      const message = `EC2 has no ${req.offering.market} capacity for ${req.offering.instanceType} in ${where}: ${code}`;
      throw new CapacityError(message, req.offering, code);
    }
  }

  /** The live machine launched with this token (its flotilla-instance tag), if any. */
  private async findByToken(appId: string, clientToken: string): Promise<ProviderInstance | undefined> {
    const Filters = [
      { Name: `tag:${TAG.app}`, Values: [appId] },
      { Name: `tag:${TAG.instance}`, Values: [clientToken] },
      { Name: 'instance-state-name', Values: LIVE_STATES },
    ];
    const out = await this.call('DescribeInstances', () => this.client.send(new DescribeInstancesCommand({ Filters })));
    const found = (out?.Reservations ?? []).flatMap((r) => r.Instances ?? []).map(toProviderInstance);
    return found.find((i) => i.clientToken === clientToken);
  }

  async terminate(providerIds: string[]): Promise<void> {
    for (let i = 0; i < providerIds.length; i += TERMINATE_BATCH) {
      await this.terminateBatch(providerIds.slice(i, i + TERMINATE_BATCH));
    }
  }

  /** One unknown id fails the whole call; then each id goes alone and "not found" counts as done. */
  private async terminateBatch(ids: string[]): Promise<void> {
    const send = (batch: string[]) =>
      this.call('TerminateInstances', () => this.client.send(new TerminateInstancesCommand({ InstanceIds: batch })));
    try {
      await send(ids);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      for (const id of ids) await send([id]).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
    }
  }

  async list(appId: string): Promise<ProviderInstance[]> {
    const filters = [
      { Name: `tag:${TAG.app}`, Values: [appId] },
      { Name: 'instance-state-name', Values: LIVE_STATES },
    ];
    const found: ProviderInstance[] = [];
    await this.call('DescribeInstances', async () => {
      found.length = 0; // a retry starts again from the first page
      const pages = paginateDescribeInstances({ client: this.client }, { Filters: filters, MaxResults: 500 });
      for await (const page of pages)
        for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) found.push(toProviderInstance(i));
    });
    await this.cancelOrphanSpotRequests(appId);
    return found;
  }

  /** A spot request that never became an instance would launch one later, unowned: cancel it. */
  async cancelOrphanSpotRequests(appId: string): Promise<string[]> {
    const filters = [
      { Name: `tag:${TAG.app}`, Values: [appId] },
      { Name: 'state', Values: ['open'] },
    ];
    const out = await this.call('DescribeSpotInstanceRequests', () =>
      this.client.send(new DescribeSpotInstanceRequestsCommand({ Filters: filters })),
    );
    const cutoff = this.now().getTime() - this.settings.spotRequestGraceS * 1000;
    const orphans = (out.SpotInstanceRequests ?? [])
      .filter((r) => !r.InstanceId && (r.CreateTime?.getTime() ?? 0) <= cutoff)
      .map((r) => r.SpotInstanceRequestId)
      .filter((id): id is string => !!id);
    if (orphans.length === 0) return [];
    await this.call('CancelSpotInstanceRequests', () =>
      this.client.send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: orphans })),
    );
    return orphans;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  return (awsErrorCode(err) ?? '').startsWith('InvalidInstanceID');
}
