// ComputeProvider for Google Compute Engine through the official @google-cloud/compute client.
import { InstancesClient, ZoneOperationsClient, type protos } from '@google-cloud/compute';
import { PassThroughClient } from 'google-auth-library';
import { retry, type RetryOptions } from '../../../domain/backoff.js';
import { BACKOFF } from '../../../domain/timings.js';
import { SettingsError, parseSettings } from '../validate.js';
import {
  CapacityError,
  TAG,
  ThrottleError,
  type ComputeProvider,
  type LaunchRequest,
  type LaunchedInstance,
  type ProviderInstance,
  type ProviderState,
} from '../types.js';
import { GCP_CAPACITY_CODES, gcpHttpCapacityCode, isGcpAlreadyExists, isGcpNotFound, isGcpThrottle } from './errors.js';
import { instanceNameFor, labelValue, parseProviderId, providerIdOf, requestIdFor } from './naming.js';
import { TAGS_METADATA_KEY, buildInstanceResource } from './request.js';
import { GcpLaunchSchema, serviceAccountKey, type GcpSettings } from './settings.js';

type Instance = protos.google.cloud.compute.v1.IInstance;
type Operation = protos.google.cloud.compute.v1.IOperation;
type ClientOptions = NonNullable<ConstructorParameters<typeof InstancesClient>[0]>;

export interface GcpDeps {
  instances?: InstancesClient;
  operations?: ZoneOperationsClient;
  /** Tests: `{ sleep: async () => {} }` so retries do not wait; a fixed `random` for a deterministic mode. */
  backoff?: Partial<Pick<RetryOptions, 'sleep' | 'random' | 'policy'>>;
}

// TERMINATED is GCE's "stopped": the machine still exists and must still be deleted.
const STATE: Record<string, ProviderState> = {
  PROVISIONING: 'pending',
  STAGING: 'pending',
  RUNNING: 'running',
  REPAIRING: 'running',
  STOPPING: 'stopping',
  SUSPENDING: 'stopping',
  SUSPENDED: 'stopping',
  TERMINATED: 'stopping',
};

const last = (url: string | null | undefined) => String(url ?? '').split('/').pop() ?? '';

export function gcpClientOptions(settings: GcpSettings): ClientOptions {
  const creds = serviceAccountKey(settings);
  return {
    projectId: settings.project,
    ...(settings.apiEndpoint ? { apiEndpoint: settings.apiEndpoint } : {}),
    ...(settings.port ? { port: settings.port } : {}),
    protocol: settings.protocol,
    ...(creds ? { credentials: { client_email: creds.client_email, private_key: creds.private_key } } : {}),
    // Plain http is only ever a loopback fake or emulator: never send real credentials there.
    ...(settings.protocol === 'http' ? { authClient: new PassThroughClient() } : {}),
  };
}

function tagsOf(inst: Instance): Record<string, string> {
  const item = inst.metadata?.items?.find((i) => i.key === TAGS_METADATA_KEY);
  try {
    if (item?.value) return { ...(inst.labels ?? {}), ...JSON.parse(item.value) };
  } catch {
    // a hand-edited metadata value: fall back to the labels
  }
  return { ...(inst.labels ?? {}) };
}

function toProviderInstance(inst: Instance): ProviderInstance {
  const tags = tagsOf(inst);
  const zone = last(inst.zone);
  const spot = inst.scheduling?.provisioningModel === 'SPOT' || inst.scheduling?.preemptible === true;
  return {
    providerId: providerIdOf(zone, inst.name ?? ''),
    clientToken: tags[TAG.instance],
    resource: tags[TAG.resource],
    state: STATE[inst.status ?? ''] ?? 'pending',
    ...(inst.creationTimestamp ? { launchedAt: new Date(inst.creationTimestamp) } : {}),
    offering: { instanceType: last(inst.machineType), zone, market: spot ? 'spot' : 'on-demand' },
    tags,
  };
}

export class GcpProvider implements ComputeProvider {
  readonly kind = 'gcp';
  private readonly instances: InstancesClient;
  private readonly operations: ZoneOperationsClient;
  private readonly backoff: Omit<RetryOptions, 'shouldRetry'>;

  constructor(
    readonly settings: GcpSettings,
    deps: GcpDeps = {},
  ) {
    const opts = gcpClientOptions(settings);
    this.instances = deps.instances ?? new InstancesClient(opts);
    this.operations = deps.operations ?? new ZoneOperationsClient(opts);
    this.backoff = { policy: BACKOFF.cloud, attempts: settings.throttleRetries + 1, ...deps.backoff };
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await retry(fn, { ...this.backoff, shouldRetry: isGcpThrottle });
    } catch (err) {
      if (!isGcpThrottle(err)) throw err;
      const code = `HTTP_${(err as { httpStatusCode?: number }).httpStatusCode}`;
      throw new ThrottleError(`Compute Engine ${what} still refused after ${this.backoff.attempts} attempts (${code})`, code);
    }
  }

  async launch(req: LaunchRequest): Promise<LaunchedInstance> {
    const launch = parseSettings(GcpLaunchSchema, req.launch, `gcp launch settings of resource "${req.resource}"`);
    const zone = req.offering.zone ?? this.settings.zone;
    if (!zone) throw new SettingsError(`resource "${req.resource}": zones: GCE needs a zone; list some or set provider.settings.zone`);
    const capacity = (code: string) =>
      new CapacityError(`Compute Engine has no ${req.offering.market} ${req.offering.instanceType} in ${zone}: ${code}`, req.offering, code);
    const name = instanceNameFor(req.clientToken);
    const request = {
      project: this.settings.project,
      zone,
      requestId: requestIdFor(req.clientToken),
      instanceResource: buildInstanceResource(req, launch, zone),
    };
    let op: Operation;
    try {
      const [lro] = await this.call('insert', () => this.instances.insert(request));
      op = await this.waitDone(zone, lro.latestResponse as Operation);
    } catch (err) {
      const code = gcpHttpCapacityCode(err);
      if (code) throw capacity(code);
      if (isGcpAlreadyExists(err)) return this.adopt(req, zone, name);
      throw err;
    }
    const errors = op.error?.errors ?? [];
    const capacityCode = errors.map((e) => e.code ?? '').find((c) => GCP_CAPACITY_CODES.has(c));
    if (capacityCode) throw capacity(capacityCode);
    if (errors.length) throw new Error(`Compute Engine insert of ${name} in ${zone} failed: ${errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
    return { providerId: providerIdOf(zone, name), offering: req.offering, state: 'pending' };
  }

  /** 409 on our deterministic name: a retry of our own launch made it already. */
  private async adopt(req: LaunchRequest, zone: string, name: string): Promise<LaunchedInstance> {
    const [inst] = await this.call('get', () => this.instances.get({ project: this.settings.project, zone, instance: name }));
    const found = toProviderInstance(inst);
    if (found.clientToken !== req.clientToken)
      throw new Error(`instance ${name} in ${zone} exists but was launched with another token (${found.clientToken})`);
    return { providerId: found.providerId, offering: req.offering, state: found.state };
  }

  /** Zone operations wait answers when the operation is DONE or after a while; poll until DONE. */
  private async waitDone(zone: string, first: Operation): Promise<Operation> {
    const deadline = Date.now() + this.settings.operationTimeoutS * 1000;
    let op = first;
    while (op.status !== 'DONE') {
      if (Date.now() > deadline)
        throw new Error(`Compute Engine operation ${op.name} in ${zone} not done after ${this.settings.operationTimeoutS} s`);
      const request = { project: this.settings.project, zone, operation: String(op.name) };
      [op] = await this.call('operations.wait', () => this.operations.wait(request));
    }
    return op;
  }

  async terminate(providerIds: string[]): Promise<void> {
    const results = await Promise.allSettled(providerIds.map((id) => this.deleteOne(id)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Starts the deletion; a machine already gone counts as deleted. */
  private async deleteOne(providerId: string): Promise<void> {
    const { zone, name } = parseProviderId(providerId);
    const request = { project: this.settings.project, zone, instance: name, requestId: requestIdFor(`delete:${providerId}`) };
    try {
      await this.call('delete', () => this.instances.delete(request));
    } catch (err) {
      if (!isGcpNotFound(err)) throw err;
    }
  }

  async list(appId: string): Promise<ProviderInstance[]> {
    const request = {
      project: this.settings.project,
      filter: `labels.${TAG.app} = "${labelValue(appId)}"`,
      returnPartialSuccess: true,
    };
    return this.call('aggregatedList', async () => {
      const found: ProviderInstance[] = [];
      for await (const [, scoped] of this.instances.aggregatedListAsync(request))
        for (const inst of scoped.instances ?? []) found.push(toProviderInstance(inst));
      // Labels are lower-cased; the exact tag tells two apps apart whose ids differ only in case.
      return found.filter((i) => i.tags[TAG.app] === appId);
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.instances.close(), this.operations.close()]);
  }
}
