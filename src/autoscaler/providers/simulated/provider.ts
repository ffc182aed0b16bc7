// The `simulated` ComputeProvider: the SimCloud behind the same interface as aws/gcp/local,
// on a virtual clock, so the reconciler can be tested against boot delays, capacity errors and
// spot interruptions without a cloud.
import type { BootTime, Faults } from '../../../domain/autoscaler/simulation-config.js';
import type { ComputeProvider, LaunchedInstance, LaunchRequest, ProviderInstance, ProviderState } from '../types.js';
import { SimCloud, type SimMachine } from './cloud.js';
import { VirtualClock } from './clock.js';

export interface SimulatedProviderOptions {
  clock?: VirtualClock;
  /** The simulated cloud to use (a new provider object on the same cloud adopts its machines, as after a restart). */
  cloud?: SimCloud;
  seed?: number;
  bootTime?: BootTime;
  faults?: Faults;
}

export class SimulatedProvider implements ComputeProvider {
  readonly kind = 'simulated';
  readonly clock: VirtualClock;
  readonly cloud: SimCloud;

  constructor(opts: SimulatedProviderOptions = {}) {
    this.clock = opts.clock ?? new VirtualClock();
    this.cloud = opts.cloud ?? new SimCloud(opts.seed ?? 1, opts.bootTime, opts.faults);
  }

  async launch(req: LaunchRequest): Promise<LaunchedInstance> {
    const m = this.cloud.launch(req, this.clock.now());
    return { providerId: m.providerId, offering: m.offering, state: this.stateOf(m) };
  }

  async terminate(providerIds: string[]): Promise<void> {
    for (const id of providerIds) this.cloud.terminate(id, this.clock.now());
  }

  async list(appId: string): Promise<ProviderInstance[]> {
    const out: ProviderInstance[] = [];
    for (const m of this.cloud.machines()) {
      if (m.appId !== appId) continue;
      out.push({
        providerId: m.providerId,
        clientToken: m.clientToken,
        resource: m.resource,
        state: this.stateOf(m),
        launchedAt: new Date(m.launchedAt),
        offering: m.offering,
        tags: m.tags,
      });
    }
    return out;
  }

  /** True once the machine has booted far enough for its agent to register (for fault tests). */
  isBooted(providerId: string): boolean {
    const m = [...this.cloud.machines()].find((x) => x.providerId === providerId);
    return !!m && this.stateOf(m) === 'running';
  }

  private stateOf(m: SimMachine): ProviderState {
    const now = this.clock.now();
    const gone = Math.min(m.terminatedAt ?? Infinity, m.interruptAt ?? Infinity);
    if (now >= gone) return 'terminated';
    return now >= m.readyAt ? 'running' : 'pending';
  }
}
