// The start-up script of a cloud machine that serves a ClearML server's queues: it installs clearml-agent when
// missing, writes clearml.conf as a 0600 file (the key pair stays off every command line and out of the log) and
// starts the daemon under the worker id the app matches the instance by. Like ClearML's own AWS/GCP autoscaler,
// the key pair travels in the machine's user data / metadata, which only the project's admins can read.
import { DEFAULT_POWER_OFF } from '../domain/agent-exit.js';
import type { ClearmlLaunch } from './source.js';

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface ClearmlStartupOptions {
  launch: ClearmlLaunch & { args: string[] };
  /** The app's execution.startupScript, run first. */
  extra?: string;
  /** The Flotilla control plane's URL (LaunchContext.serverUrl): the watchdog GETs its /healthz. */
  serverUrl: string;
  /** timings.unreachableShutdownS: power the machine off after this long without the control plane; 0 = never. */
  unreachableShutdownS: number;
  /** Seconds between the watchdog's checks (default 60; tests use 1). */
  checkS?: number;
  /** Bash that powers the machine off (default DEFAULT_POWER_OFF; tests write a marker file). */
  powerOff?: string;
  /** Where clearml.conf, the work folder and the watchdog live (default /opt/flotilla-clearml). */
  dir?: string;
  /** Where the daemon's and the watchdog's logs go (default /var/log). */
  logDir?: string;
}

/**
 * The dead-man switch of a clearml-agent machine. clearml-agent talks to the ClearML server, not to Flotilla, so
 * nothing on the machine notices when the control plane that stops idle machines is gone: without this it would
 * run, and bill, for ever. Like Flotilla's agent (--exit-if-unreachable), it waits for the control plane to be
 * unreachable for `limit` seconds and for the daemon to be idle, then powers the machine off.
 * "Idle" = the daemon's process has no child. Checked with the real clearml-agent 1.9.2
 * (test/clearml/agent-idle.test.ts): idle, it polls its queues in its own process and has no child; running a
 * task it has one for the whole task (`python -u -m clearml_agent --config-file … execute --id …` in process
 * mode, `docker run …` in docker mode, both from the same _log_command_output). A daemon that is gone counts as
 * idle: the machine then runs nothing at all. $! is the daemon itself (nohup and pip's clearml-agent
 * script both exec); were it a wrapper that forks, the daemon would look busy for ever: the machine stays on, as before. Time is /proc/uptime (a clock set at boot does not count).
 */
function watchdog(o: { serverUrl: string; limit: number; checkS: number; powerOff: string }): string {
  const url = `${o.serverUrl.replace(/\/+$/, '')}/healthz`;
  return `#!/bin/bash
set -u
AGENT_PID="$1"
URL=${shq(url)}
LIMIT=${o.limit}
CHECK=${o.checkS}
log() { echo "$(date -u +%FT%TZ) flotilla-watchdog: $*"; }
now() { local up _; read -r up _ < /proc/uptime; echo "\${up%.*}"; }
# 2xx only. curl is on Ubuntu's and Debian's cloud images; python3 is on every machine that runs clearml-agent.
reachable() {
  if command -v curl >/dev/null; then
    local code
    code="$(curl -sS -o /dev/null -w '%{http_code}' --connect-timeout 5 --max-time 10 "$URL" 2>/dev/null)" && [ "\${code:0:1}" = 2 ]
  else
    python3 -c 'import sys, urllib.request as u; sys.exit(0 if 200 <= u.urlopen(sys.argv[1], timeout=10).status < 300 else 1)' "$URL" 2>/dev/null
  fi
}
# A child of the daemon (ppid, field 4 of /proc/PID/stat; read after the last ")" since the name may hold spaces).
busy() {
  local f line
  for f in /proc/[0-9]*/stat; do
    read -r line < "$f" 2>/dev/null || continue
    line="\${line##*) }"
    set -- $line
    [ "\${2:-}" = "$AGENT_PID" ] && return 0
  done
  return 1
}
log "watching $URL for clearml-agent $AGENT_PID: power-off after \${LIMIT}s unreachable while idle"
last_ok="$(now)"
down=0
while sleep "$CHECK"; do
  if reachable; then
    [ "$down" != 0 ] && log "control plane reachable again"
    last_ok="$(now)" down=0
    continue
  fi
  [ "$down" = 0 ] && log "control plane unreachable"
  down=1
  gone=$(( $(now) - last_ok ))
  [ "$gone" -ge "$LIMIT" ] || continue
  if busy; then
    [ "$down" = 2 ] || log "unreachable for \${gone}s; clearml-agent is running a task: waiting for it to end"
    down=2
    continue
  fi
  log "unreachable for \${gone}s and clearml-agent is idle: powering this machine off"
  ${o.powerOff}
  exit 0
done
`;
}

export function clearmlStartupScript(o: ClearmlStartupOptions): string {
  const l = o.launch;
  const dir = o.dir ?? '/opt/flotilla-clearml';
  const logDir = o.logDir ?? '/var/log';
  const conf = l.conf(`${dir}/work`);
  if (/[\r\n]/.test(o.serverUrl)) throw new Error('the server URL cannot hold a line break');
  if (conf.includes('FLOTILLA_CLEARML_CONF')) throw new Error('the clearml.conf text cannot hold the word FLOTILLA_CLEARML_CONF');
  const watch = o.unreachableShutdownS > 0
    ? [
      `cat > ${shq(`${dir}/watchdog.sh`)} <<'FLOTILLA_WATCHDOG'`,
      watchdog({ serverUrl: o.serverUrl, limit: o.unreachableShutdownS, checkS: o.checkS ?? 60, powerOff: o.powerOff ?? DEFAULT_POWER_OFF }).trimEnd(),
      'FLOTILLA_WATCHDOG',
      `setsid nohup /bin/bash ${shq(`${dir}/watchdog.sh`)} "$CLEARML_AGENT_PID" >> ${shq(`${logDir}/flotilla-watchdog.log`)} 2>&1 < /dev/null &`,
      `echo $! > ${shq(`${dir}/watchdog.pid`)}`,
    ]
    : [];
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    ...(o.extra ? ['# the app\'s execution.startupScript', o.extra] : []),
    'command -v clearml-agent >/dev/null || python3 -m pip install --quiet clearml-agent',
    `install -d -m 0700 ${shq(dir)} ${shq(`${dir}/work`)}`,
    'umask 077',
    `cat > ${shq(`${dir}/clearml.conf`)} <<'FLOTILLA_CLEARML_CONF'`,
    conf.trimEnd(),
    'FLOTILLA_CLEARML_CONF',
    `export CLEARML_CONFIG_FILE=${shq(`${dir}/clearml.conf`)} CLEARML_WORKER_ID=${shq(l.workerId)}`,
    `nohup clearml-agent daemon --queue ${l.queues.map(shq).join(' ')} ${l.args.map(shq).join(' ')} >> ${shq(`${logDir}/clearml-agent.log`)} 2>&1 &`,
    'CLEARML_AGENT_PID=$!',
    `echo "$CLEARML_AGENT_PID" > ${shq(`${dir}/clearml-agent.pid`)}`,
    ...watch,
    '',
  ].join('\n');
}
