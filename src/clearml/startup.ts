// The start-up script of a cloud machine that serves a ClearML server's queues: it installs clearml-agent when
// missing, writes clearml.conf as a 0600 file (the key pair stays off every command line and out of the log) and
// starts the daemon under the worker id the app matches the instance by. Like ClearML's own AWS/GCP autoscaler,
// the key pair travels in the machine's user data / metadata, which only the project's admins can read.
import type { ClearmlLaunch } from './source.js';

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function clearmlStartupScript(l: ClearmlLaunch & { args: string[] }, extra?: string): string {
  const dir = '/opt/flotilla-clearml';
  const conf = l.conf(`${dir}/work`);
  if (conf.includes('FLOTILLA_CLEARML_CONF')) throw new Error('the clearml.conf text cannot hold the word FLOTILLA_CLEARML_CONF');
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    ...(extra ? ['# the app\'s execution.startupScript', extra] : []),
    'command -v clearml-agent >/dev/null || python3 -m pip install --quiet clearml-agent',
    `install -d -m 0700 ${dir} ${dir}/work`,
    'umask 077',
    `cat > ${dir}/clearml.conf <<'FLOTILLA_CLEARML_CONF'`,
    conf.trimEnd(),
    'FLOTILLA_CLEARML_CONF',
    `export CLEARML_CONFIG_FILE=${dir}/clearml.conf CLEARML_WORKER_ID=${shq(l.workerId)}`,
    `nohup clearml-agent daemon --queue ${l.queues.map(shq).join(' ')} ${l.args.map(shq).join(' ')} >> /var/log/clearml-agent.log 2>&1 &`,
    '',
  ].join('\n');
}
