// The one interface every compute provider implements (local, simulated, aws, gcp).
// The reconciler is the only caller; the policy never sees a provider.

import type { Offering } from '../../domain/autoscaler/offering.js';
import type { ClearmlLaunch } from '../../clearml/source.js';

export type { Market, Offering } from '../../domain/autoscaler/offering.js';
export type ProviderState = 'pending' | 'running' | 'stopping' | 'terminated';

export interface LaunchRequest {
  appId: string;
  resource: string;
  /** Idempotency key: the same token never makes two machines. Also the Flotilla instance id. */
  clientToken: string;
  offering: Offering;
  /** Provider-specific launch settings of the resource type (validated by the provider). */
  launch: Record<string, unknown>;
  /** User data / startup-script that brings up the agent. Never logged. */
  startupScript: string;
  /** What the agent on the new machine needs. The local provider starts it directly; clouds use startupScript. */
  agent?: { server: string; token: string; queues: string[]; args: string[] };
  /** An app serving a ClearML server's queues: the clearml-agent to start instead (the local provider starts it directly). */
  clearml?: ClearmlLaunch & { args: string[] };
  /** Set at creation time, never afterwards: flotilla-app, flotilla-resource, flotilla-instance, flotilla-control-plane. */
  tags: Record<string, string>;
}

export interface LaunchedInstance {
  providerId: string;
  offering: Offering;
  state: ProviderState;
}

export interface ProviderInstance {
  providerId: string;
  /** flotilla-instance tag, i.e. the clientToken it was launched with. */
  clientToken?: string;
  resource?: string;
  state: ProviderState;
  launchedAt?: Date;
  offering?: Offering;
  tags: Record<string, string>;
}

export interface ComputeProvider {
  readonly kind: string;
  launch(req: LaunchRequest): Promise<LaunchedInstance>;
  terminate(providerIds: string[]): Promise<void>;
  /** Every instance carrying this app's tags, in any state but long-gone ones. */
  list(appId: string): Promise<ProviderInstance[]>;
  close?(): Promise<void>;
}

export const TAG = {
  app: 'flotilla-app',
  resource: 'flotilla-resource',
  instance: 'flotilla-instance',
  controlPlane: 'flotilla-control-plane',
} as const;

/** The offering has no capacity now (spot or zone exhausted, quota): try the next one. */
export class CapacityError extends Error {
  readonly kind = 'capacity';
  constructor(message: string, readonly offering: Offering, readonly code: string) {
    super(message);
    this.name = 'CapacityError';
  }
}

/** The cloud asked us to slow down; the call may be retried after a back-off. */
export class ThrottleError extends Error {
  readonly kind = 'throttle';
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'ThrottleError';
  }
}
