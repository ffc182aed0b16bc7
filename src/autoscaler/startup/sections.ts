// The bash pieces of the start-up script. Each returns text; render.ts puts them in order.
// Values from outside are always passed through shq() (single-quoted), never pasted raw.
import { DEFAULT_POWER_OFF, EXIT_UNREACHABLE } from '../../domain/agent-exit.js';

/** Single-quotes a value for bash: nothing inside is expanded. */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export const helpers = `log() { echo "flotilla-bootstrap: $*" >&2; }
die() { log "FAILED: $*"; exit 1; }
# Networks and metadata servers come up a little after the machine: retry, but not for ever.
retry() { local n=0; until "$@"; do n=$((n + 1)); [ "$n" -ge 30 ] && return 1; sleep 2; done; }
pkg_install() {
  if command -v apt-get >/dev/null; then
    retry env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      retry env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
  elif command -v dnf >/dev/null; then retry dnf install -y -q "$@"
  elif command -v yum >/dev/null; then retry yum install -y -q "$@"
  else return 1; fi
}`;

export function installTools(nodeVersion: string): string {
  const major = nodeVersion.split('.')[0];
  return `command -v curl >/dev/null || pkg_install curl ca-certificates || die "cannot install curl"
command -v tar >/dev/null || pkg_install tar gzip || die "cannot install tar"
command -v git >/dev/null || pkg_install git || die "cannot install git"
if ! command -v podman >/dev/null && ! command -v docker >/dev/null; then
  pkg_install podman || pkg_install docker.io || pkg_install docker || die "cannot install podman or docker"
fi
node_ok() { command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge ${major} ]; }
if ! node_ok; then
  case "$(uname -m)" in x86_64) NODE_ARCH=x64 ;; aarch64) NODE_ARCH=arm64 ;; *) die "no Node.js build for $(uname -m)" ;; esac
  log "installing Node.js v${nodeVersion}"
  retry curl -fsSL -o /tmp/node.tar.gz "https://nodejs.org/dist/v${nodeVersion}/node-v${nodeVersion}-linux-$NODE_ARCH.tar.gz"
  tar -xzf /tmp/node.tar.gz -C /usr/local --strip-components=1 && rm -f /tmp/node.tar.gz
  node_ok || die "Node.js ${major}+ is still missing"
fi`;
}

export type Cloud = 'aws' | 'gcp' | 'none';

export const defaultMetadataUrl: Record<Cloud, string> = {
  aws: 'http://169.254.169.254',
  gcp: 'http://metadata.google.internal',
  none: '',
};

/** Sets INSTANCE_ID to what the provider calls this machine (its providerId). */
export function instanceIdentity(cloud: Cloud): string {
  if (cloud === 'aws')
    return `# IMDSv2: a session token first, then the instance id.
aws_instance_id() {
  local t
  t="$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$METADATA_URL/latest/api/token")" &&
    curl -fsS -H "X-aws-ec2-metadata-token: $t" "$METADATA_URL/latest/meta-data/instance-id"
}
INSTANCE_ID="$(retry aws_instance_id)" || die "no instance id from the EC2 metadata service"`;
  if (cloud === 'gcp')
    return `# The GCE metadata server; the provider's id of a GCE machine is ZONE/NAME.
gce_md() { curl -fsS -H 'Metadata-Flavor: Google' "$METADATA_URL/computeMetadata/v1/instance/$1"; }
GCE_NAME="$(retry gce_md name)" || die "no instance name from the GCE metadata server"
GCE_ZONE="$(retry gce_md zone)" || die "no zone from the GCE metadata server"
INSTANCE_ID="\${GCE_ZONE##*/}/$GCE_NAME"`;
  return `INSTANCE_ID="$(hostname)"`;
}

/** Bundle, then token exchange. The bootstrap token goes to curl in a 0600 header file, never on argv. */
export const fetchAndExchange = `HEADER_FILE="$STATE_DIR/bootstrap.header"
printf 'Authorization: Bearer %s\\n' "$BOOTSTRAP_TOKEN" > "$HEADER_FILE"
log "fetching the agent bundle from $FLOTILLA_SERVER"
retry curl -fsS -H @"$HEADER_FILE" -o "$INSTALL_DIR/bundle.tar.gz" "$FLOTILLA_SERVER/api/v1/bootstrap/bundle" ||
  die "cannot fetch the agent bundle"
AGENT_DIR="$INSTALL_DIR/agent-$FLOTILLA_VERSION"
rm -rf "$AGENT_DIR" && mkdir -p "$AGENT_DIR"
tar -xzf "$INSTALL_DIR/bundle.tar.gz" -C "$AGENT_DIR" && rm -f "$INSTALL_DIR/bundle.tar.gz"
[ -f "$AGENT_DIR/dist/src/cli/main.js" ] || die "the bundle has no dist/src/cli/main.js"
log "agent bundle $(node -p "require(process.argv[1]).version" "$AGENT_DIR/package.json") (control plane $FLOTILLA_VERSION)"
log "trading the bootstrap token for an agent token"
retry curl -fsS -H @"$HEADER_FILE" -H 'Content-Type: application/json' -o "$STATE_DIR/exchange.json" \\
  --data-binary "{\\"instanceId\\":\\"$INSTANCE_ID\\"}" "$FLOTILLA_SERVER/api/v1/bootstrap/exchange" ||
  die "the control plane refused the bootstrap token"
rm -f "$HEADER_FILE"
unset BOOTSTRAP_TOKEN
TOKEN_FILE="$STATE_DIR/agent-token"
node -e 'const fs = require("fs"); const t = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).token;
if (typeof t !== "string" || !t) process.exit(2); fs.writeFileSync(process.argv[2], t, { mode: 0o600 });' \\
  "$STATE_DIR/exchange.json" "$TOKEN_FILE" || die "the exchange answer has no token"
rm -f "$STATE_DIR/exchange.json"
chmod 600 "$TOKEN_FILE"`;

/** Writes the app's own script to a file through a quoted here-document and runs it. */
export function extraScript(script: string | undefined, delimiter: string): string {
  if (!script?.trim()) return '# (the app has no extra start-up script)';
  const body = script.endsWith('\n') ? script : `${script}\n`;
  return `cat > "$STATE_DIR/app-startup.sh" <<'${delimiter}'
${body}${delimiter}
log "running the app's start-up script"
bash "$STATE_DIR/app-startup.sh" || die "the app's start-up script failed"`;
}

export type Supervisor = 'auto' | 'systemd' | 'exec';

/** A bash test that is true when the agent should run as a systemd unit. */
export function underSystemd(supervisor: Supervisor): string {
  return supervisor === 'systemd' ? 'true' : supervisor === 'exec' ? 'false' : '[ -d /run/systemd/system ]';
}

/** GCE runs the start-up script on every boot; the bootstrap token is spent after the first. */
export function alreadyBootstrapped(supervisor: Supervisor): string {
  return `if [ -s "$STATE_DIR/agent-token" ] && [ -x "$STATE_DIR/run-agent.sh" ]; then
  log "already bootstrapped: starting the agent again"
  if ${underSystemd(supervisor)}; then systemctl start flotilla-agent.service; exit 0; fi
  exec /bin/bash "$STATE_DIR/run-agent.sh"
fi`;
}

/**
 * Writes run-agent.sh (runs the agent with --token-file: the 0600 token file, never the environment, which
 * a process-mode task could read in /proc/<agent pid>/environ) and runs it: as a
 * systemd unit when systemd runs the machine (restarts, logs in the journal), else in place with exec.
 * An agent that gave up on an unreachable control plane (EXIT_UNREACHABLE) powers the machine off: nobody
 * else is left to stop it. `agentArgs` is bash text: static values already quoted, "$INSTANCE_ID" left to
 * expand at run time.
 */
export function startAgent(agentArgs: string, supervisor: Supervisor, powerOff = DEFAULT_POWER_OFF): string {
  const test = underSystemd(supervisor);
  return `RUN_AGENT="$STATE_DIR/run-agent.sh"
{
  echo '#!/bin/bash'
  echo 'set -euo pipefail'
  printf 'INSTANCE_ID=%q\nAGENT_DIR=%q\nTOKEN_FILE=%q\nNODE=%q\nMETADATA_URL=%q\n' "$INSTANCE_ID" "$AGENT_DIR" "$TOKEN_FILE" "$(command -v node)" "$METADATA_URL"
  cat <<'RUN_AGENT_EOF'
code=0
"$NODE" "$AGENT_DIR/dist/src/cli/main.js" ${agentArgs} --token-file "$TOKEN_FILE" || code=$?
if [ "$code" = ${EXIT_UNREACHABLE} ]; then
  echo "flotilla: the agent gave up on its unreachable control plane; powering this machine off" >&2
  ${powerOff}
fi
exit "$code"
RUN_AGENT_EOF
} > "$RUN_AGENT"
chmod 700 "$RUN_AGENT"
if ${test}; then
  cat > /etc/systemd/system/flotilla-agent.service <<UNIT
[Unit]
Description=Flotilla agent
Wants=network-online.target
After=network-online.target
[Service]
ExecStart=/bin/bash $RUN_AGENT
Restart=on-failure
RestartSec=5
RestartPreventExitStatus=${EXIT_UNREACHABLE}
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload && systemctl enable --now flotilla-agent.service
  log "agent started as flotilla-agent.service (worker $INSTANCE_ID)"
else
  log "starting the agent as worker $INSTANCE_ID"
  exec /bin/bash "$RUN_AGENT"
fi`;
}
