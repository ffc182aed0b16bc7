// Adapts renderStartupScript to the reconciler's hook (LaunchContext.renderStartupScript).
import type { StartupScriptInput } from '../launch.js';
import { VERSION } from '../../version.js';
import { renderStartupScript, type Cloud } from './render.js';

const CLOUD: Record<string, Cloud> = { aws: 'aws', gcp: 'gcp' };

/** The start-up script of one launch of an app's resource, from the app's config. */
export function startupScriptForApp(input: StartupScriptInput, version: string = VERSION): string {
  const { cfg } = input;
  return renderStartupScript({
    cloud: CLOUD[cfg.provider.kind] ?? 'none',
    serverUrl: input.serverUrl,
    bootstrapToken: input.bootstrapToken,
    version,
    appId: cfg.name,
    resource: input.resource.name,
    queues: input.queues,
    image: cfg.execution.image,
    agentArgs: cfg.execution.agentArgs,
    extraScript: cfg.execution.startupScript,
    exitIfUnreachableS: cfg.timings.unreachableShutdownS || undefined,
  });
}
