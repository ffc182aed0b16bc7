// flotilla autoscaler render-startup NAME --resource R: the start-up script a new machine of that
// resource would run, with a placeholder where the one-time bootstrap token goes, for review.
import type { Command } from 'commander';
import { clientFor } from '../config.js';
import type { AppConfig } from '../../domain/autoscaler/config.js';
import { queuesOf } from '../../autoscaler/launch.js';
import { startupScriptForApp } from '../../autoscaler/startup/index.js';

/** Stands where a launch puts the one-time token; it is not a token and opens nothing. */
export const PLACEHOLDER_TOKEN = 'PLACEHOLDER-one-time-bootstrap-token';

export function renderForReview(cfg: AppConfig, resourceName: string, serverUrl: string, version: string): string {
  if (cfg.provider.kind !== 'aws' && cfg.provider.kind !== 'gcp')
    throw new Error(`app "${cfg.name}" uses provider ${cfg.provider.kind}, which starts agents directly; only aws and gcp apps have a start-up script`);
  const resource = cfg.resources.find((r) => r.name === resourceName);
  if (!resource)
    throw new Error(`--resource: app "${cfg.name}" has no resource "${resourceName}"; it has: ${cfg.resources.map((r) => r.name).join(', ')}`);
  const queues = queuesOf(cfg, resource.name);
  if (!queues.length)
    throw new Error(`--resource: no queue of app "${cfg.name}" lists resource "${resource.name}", so it is never launched; add it under queues`);
  return startupScriptForApp(
    { cfg, resource, instanceId: 'review', queues, serverUrl, bootstrapToken: PLACEHOLDER_TOKEN },
    version,
  );
}

export function registerRenderStartup(as: Command): void {
  as.command('render-startup <name>')
    .description("print the start-up script a new machine of a resource runs (token replaced by a placeholder)")
    .requiredOption('--resource <name>', 'the resource type of the app')
    .option('--server-url <url>', 'the control-plane URL as the machines reach it (default: the server this CLI talks to)')
    .action(async (name: string, o: { resource: string; serverUrl?: string }, cmd: Command) => {
      const client = clientFor(cmd.optsWithGlobals());
      const cfg = await client.request<AppConfig>('GET', `/api/v1/autoscalers/${encodeURIComponent(name)}`);
      // The bundle a machine fetches is of the server's version, not this CLI's.
      const { version } = await client.request<{ version: string }>('GET', '/healthz');
      process.stdout.write(renderForReview(cfg, o.resource, o.serverUrl ?? client.server, version));
    });
}
