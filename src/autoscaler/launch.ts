// What a launch carries: tags set at creation, the agent's settings and a token bound to the instance.
// Local workers get an agent token directly (in their environment, never argv); cloud machines get a
// one-time bootstrap token in their start-up script, which the agent trades for its own token.
import type { Store } from '../store/index.js';
import type { AppConfig, ResourceConfig } from '../domain/autoscaler/config.js';
import { TAG, type LaunchRequest, type Offering } from './providers/types.js';
import type { ClearmlSource } from '../clearml/source.js';
import { clearmlStartupScript } from '../clearml/startup.js';

export interface StartupScriptInput {
  cfg: AppConfig;
  resource: ResourceConfig;
  instanceId: string;
  queues: string[];
  serverUrl: string;
  bootstrapToken: string;
}

export interface LaunchContext {
  store: Store;
  /** The URL agents use to reach the control plane. */
  serverUrl: string;
  controlPlaneId: string;
  /** Cloud providers: renders the machine's start-up script. Absent: the agent is started directly. */
  renderStartupScript?: (i: StartupScriptInput) => string;
  /** The app serves a ClearML server's queues: its instances run clearml-agent (src/clearml/source.ts). */
  clearml?: ClearmlSource;
}

/** Queues served by a resource: every queue that lists it. */
export function queuesOf(cfg: AppConfig, resource: string): string[] {
  return Object.entries(cfg.queues).filter(([, list]) => list.includes(resource)).map(([q]) => q);
}

export function agentArgs(cfg: AppConfig): string[] {
  const args = [...cfg.execution.agentArgs];
  if (cfg.execution.image) args.push('--docker', cfg.execution.image);
  return args;
}

/** Flotilla's agent only (a clearml-agent has no such flag): an idle worker ends when the control plane is gone for good. */
export function unreachableArgs(cfg: AppConfig): string[] {
  const s = cfg.timings.unreachableShutdownS;
  return s > 0 ? ['--exit-if-unreachable', String(s)] : [];
}

export async function launchRequest(
  ctx: LaunchContext, cfg: AppConfig, resource: ResourceConfig, instanceId: string, offering: Offering,
): Promise<LaunchRequest> {
  const queues = queuesOf(cfg, resource.name);
  const tags = {
    [TAG.app]: cfg.name, [TAG.resource]: resource.name, [TAG.instance]: instanceId, [TAG.controlPlane]: ctx.controlPlaneId,
  };
  // The agent's token is bound to this instance, app, resource and queues (domain/agent-scope.ts).
  const binding = { app: cfg.name, resource: resource.name, queues };
  const base = { appId: cfg.name, resource: resource.name, clientToken: instanceId, offering, launch: resource.launch, tags };
  if (ctx.clearml) {
    // No Flotilla token: the agent speaks to the ClearML server with the key pair of the app's secret.
    const clearml = { ...await ctx.clearml.launch(resource.name, instanceId, queues), args: agentArgs(cfg) };
    // Its dead-man switch is a watchdog on the machine (clearml-agent has no --exit-if-unreachable).
    const startupScript = ctx.renderStartupScript ? clearmlStartupScript({
      launch: clearml, extra: cfg.execution.startupScript, serverUrl: ctx.serverUrl, unreachableShutdownS: cfg.timings.unreachableShutdownS,
    }) : '';
    return { ...base, startupScript, clearml };
  }
  if (!ctx.renderStartupScript) {
    const { token } = await ctx.store.tokens.create(`instance ${instanceId}`, 'agent', { scope: instanceId, ...binding });
    return { ...base, startupScript: '', agent: { server: ctx.serverUrl, token, queues, args: [...agentArgs(cfg), ...unreachableArgs(cfg)] } };
  }
  const { token } = await ctx.store.tokens.create(`bootstrap ${instanceId}`, 'bootstrap', {
    // The agent token it is traded for inherits the binding (server/routes/bootstrap.ts).
    scope: instanceId, ...binding, ttlMs: (cfg.timings.bootTimeoutS + 300) * 1000,
  });
  const startupScript = ctx.renderStartupScript({ cfg, resource, instanceId, queues, serverUrl: ctx.serverUrl, bootstrapToken: token });
  return { ...base, startupScript };
}
