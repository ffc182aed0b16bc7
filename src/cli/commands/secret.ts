// flotilla secret set|list|delete. A value never comes from a flag (ps and shell history would show
// it): it is read from a file (YAML or JSON, `-` for stdin) or assembled from environment variables.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { SECRET_KIND_NAMES } from '../../server/secrets/kinds.js';
import { clientFor } from '../config.js';
import { withFlagNames } from '../errors.js';
import { ago, note, printJson, printTable } from '../output.js';

interface SetOpts { kind: string; fromFile?: string; fromEnv?: Record<string, string>; json?: boolean }

/** Repeatable `--from-env FIELD=VAR` (FIELD may be dotted: aws.secretAccessKey=AWS_SECRET_ACCESS_KEY). */
function fieldFromEnv(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^([A-Za-z0-9_.]+)=([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  if (!m) throw new InvalidArgumentError('write it as FIELD=ENV_VAR, e.g. password=GIT_TOKEN');
  return { ...previous, [m[1]!]: m[2]! };
}

/** The secret's value from --from-file or --from-env; errors say which one to fix. */
export function secretValue(o: Pick<SetOpts, 'fromFile' | 'fromEnv'>, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  if (!!o.fromFile === !!o.fromEnv) throw new Error('give the value with either --from-file FILE or --from-env FIELD=VAR (repeatable)');
  if (o.fromFile) {
    const text = readFileSync(o.fromFile === '-' ? 0 : o.fromFile, 'utf8');
    const value: unknown = parseYaml(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error(`--from-file ${o.fromFile}: must hold a YAML or JSON object, e.g. {username: ..., password: ...}`);
    return value as Record<string, unknown>;
  }
  const value: Record<string, unknown> = {};
  for (const [field, variable] of Object.entries(o.fromEnv!)) {
    const v = env[variable];
    if (v === undefined) throw new Error(`--from-env ${field}=${variable}: ${variable} is not set`);
    const path = field.split('.');
    let into = value;
    for (const part of path.slice(0, -1)) into = (into[part] ??= {}) as Record<string, unknown>;
    into[path.at(-1)!] = v;
  }
  return value;
}

export function registerSecret(program: Command): void {
  const secret = program.command('secret').description('git, storage and cloud credentials, encrypted at rest (values are never shown)');

  secret.command('set <name>').description('create or replace a secret (admin token)')
    .addOption(new Option('--kind <kind>', 'what it holds').choices(SECRET_KIND_NAMES).makeOptionMandatory())
    .option('--from-file <file>', 'YAML or JSON object with the value ("-" reads stdin)')
    .option('--from-env <FIELD=VAR>', 'take a field from an environment variable (repeatable; dotted fields nest)', fieldFromEnv)
    .option('--json', 'print the result as JSON')
    .action(async (name: string, o: SetOpts, cmd: Command) => {
      const r = await clientFor(cmd.optsWithGlobals()).putSecret(name, o.kind, secretValue(o))
        .catch((e) => { throw withFlagNames(e, { value: o.fromFile ? '--from-file' : '--from-env', kind: '--kind' }); });
      if (o.json) return printJson(r);
      note(`secret "${name}" (${o.kind}) ${r.created ? 'created' : 'replaced'}`);
    });

  secret.command('list').description('names, kinds and when they changed')
    .option('--json', 'print the result as JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const secrets = await clientFor(cmd.optsWithGlobals()).listSecrets();
      if (o.json) return printJson(secrets);
      printTable(secrets, [
        { header: 'NAME', value: (s) => s.name },
        { header: 'KIND', value: (s) => s.kind },
        { header: 'CREATED', value: (s) => ago(s.createdAt) },
        { header: 'UPDATED', value: (s) => ago(s.updatedAt) },
      ]);
    });

  secret.command('delete <name>').description('delete a secret (admin token)')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await clientFor(cmd.optsWithGlobals()).deleteSecret(name);
      note(`secret "${name}" deleted`);
    });
}
