// renderStartupScript: the bash script a new cloud machine runs first (EC2 user data, GCE metadata
// startup-script). Pure: the same options give the same text, so it can be reviewed and tested.
import { createHash } from 'node:crypto';
import {
  alreadyBootstrapped,
  defaultMetadataUrl,
  extraScript,
  fetchAndExchange,
  helpers,
  installTools,
  instanceIdentity,
  shq,
  startAgent,
  type Cloud,
  type Supervisor,
} from './sections.js';

export type { Cloud, Supervisor } from './sections.js';

/** EC2's user-data limit; GCE allows more, one limit keeps both clouds honest. */
export const USER_DATA_LIMIT = 16 * 1024;

export interface StartupScriptOptions {
  cloud: Cloud;
  /** Control-plane URL as the machine reaches it. */
  serverUrl: string;
  /** One-time token bound to this instance: fetches the bundle, traded once for the agent token. */
  bootstrapToken: string;
  /** Control-plane version; the bundle it serves is of this version. */
  version: string;
  appId: string;
  resource: string;
  queues: string[];
  /** The app's default container image: the agent runs with `--docker IMAGE`. */
  image?: string;
  agentArgs?: string[];
  /** The app's extra start-up script, run as root before the agent starts. */
  extraScript?: string;
  /** The idle agent gives up on a control plane unreachable this long, and the machine powers off. Unset: never. */
  exitIfUnreachableS?: number;
  /** Node.js installed when missing or older; default: the control plane's own. */
  nodeVersion?: string;
  installDir?: string;
  stateDir?: string;
  /** Tests point this at a fake metadata server. */
  metadataUrl?: string;
  supervisor?: Supervisor;
  /** Bash that powers the machine off (tests record it instead). */
  powerOff?: string;
  maxBytes?: number;
}

export class StartupScriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupScriptError';
  }
}

function check(opts: StartupScriptOptions): void {
  const oneLine: [string, string | undefined][] = [
    ['serverUrl', opts.serverUrl],
    ['version', opts.version],
    ['appId', opts.appId],
    ['resource', opts.resource],
    ['execution.image', opts.image],
    ...(opts.agentArgs ?? []).map((a, i): [string, string] => [`execution.agentArgs[${i}]`, a]),
    ...opts.queues.map((q, i): [string, string] => [`queues[${i}]`, q]),
  ];
  for (const [field, value] of oneLine)
    if (value !== undefined && /[\r\n\0]/.test(value)) throw new StartupScriptError(`${field}: must be one line`);
  if (!/^https?:\/\/[^\s'"]+$/.test(opts.serverUrl))
    throw new StartupScriptError(`serverUrl: "${opts.serverUrl}" is not an http(s) URL the machine can reach`);
  // It goes into an HTTP header: no spaces, quotes or line breaks.
  if (!/^[\w.~+/=-]{16,512}$/.test(opts.bootstrapToken))
    throw new StartupScriptError('bootstrapToken: 16-512 characters of [A-Za-z0-9_.~+/=-]');
  if (opts.queues.length === 0) throw new StartupScriptError('queues: the agent needs at least one queue');
}

/** The agent's command line as bash text: values quoted, the instance id expanded on the machine. */
function agentCommand(opts: StartupScriptOptions): string {
  const args = [
    'agent',
    '--server', shq(opts.serverUrl),
    '--queue', shq(opts.queues.join(',')),
    '--worker-id', '"$INSTANCE_ID"',
    '--instance-id', '"$INSTANCE_ID"',
    '--app', shq(opts.appId),
    '--resource', shq(opts.resource),
    // Every cloud machine watches for the spot notice: on an on-demand one it never comes.
    ...(opts.cloud !== 'none' ? ['--interruptions', opts.cloud, '--metadata-url', '"$METADATA_URL"'] : []),
    ...(opts.image ? ['--docker', shq(opts.image)] : []),
    ...(opts.exitIfUnreachableS ? ['--exit-if-unreachable', String(opts.exitIfUnreachableS)] : []),
    ...(opts.agentArgs ?? []).map(shq),
  ];
  return args.join(' ');
}

function heredocDelimiter(script: string | undefined): string {
  const delimiter = `FLOTILLA_APP_SCRIPT_${createHash('sha256').update(script ?? '').digest('hex').slice(0, 12)}`;
  if (script?.split('\n').some((line) => line.trim() === delimiter))
    throw new StartupScriptError(`execution.startupScript: a line may not be ${delimiter}`);
  return delimiter;
}

export function renderStartupScript(opts: StartupScriptOptions): string {
  check(opts);
  const supervisor = opts.supervisor ?? 'auto';
  const vars: [string, string][] = [
    ['FLOTILLA_SERVER', opts.serverUrl.replace(/\/+$/, '')],
    ['FLOTILLA_VERSION', opts.version],
    ['BOOTSTRAP_TOKEN', opts.bootstrapToken],
    ['METADATA_URL', opts.metadataUrl ?? defaultMetadataUrl[opts.cloud]],
    ['INSTALL_DIR', opts.installDir ?? '/opt/flotilla'],
    ['STATE_DIR', opts.stateDir ?? '/etc/flotilla'],
  ];
  const script = [
    '#!/bin/bash',
    `# Flotilla agent bootstrap for app ${opts.appId}, resource ${opts.resource}, control plane ${opts.version}.`,
    `# Review it with: flotilla autoscaler render-startup ${opts.appId} --resource ${opts.resource}`,
    '# Never traced (no xtrace) on purpose: this script holds a one-time bootstrap token.',
    'set -euo pipefail',
    'umask 077',
    ...vars.map(([name, value]) => `${name}=${shq(value)}`),
    'mkdir -p "$INSTALL_DIR" "$STATE_DIR" && chmod 700 "$STATE_DIR"',
    helpers,
    alreadyBootstrapped(supervisor),
    '# 1. Tools this machine lacks: curl, tar, git, podman (or docker), Node.js.',
    installTools(opts.nodeVersion ?? process.versions.node),
    '# 2. Worker identity: the cloud instance id.',
    instanceIdentity(opts.cloud),
    '# 3. The agent bundle of this control plane, and the token trade.',
    fetchAndExchange,
    "# 4. The app's own start-up script.",
    extraScript(opts.extraScript, heredocDelimiter(opts.extraScript)),
    '# 5. The agent.',
    startAgent(agentCommand(opts), supervisor, opts.powerOff),
    '',
  ].join('\n');
  const max = opts.maxBytes ?? USER_DATA_LIMIT;
  const size = Buffer.byteLength(script, 'utf8');
  if (size > max)
    throw new StartupScriptError(
      `the start-up script is ${size} bytes, over the ${max}-byte user-data limit: shorten execution.startupScript or fetch it from a URL`,
    );
  return script;
}
