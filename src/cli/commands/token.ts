// flotilla token create|list|revoke: the only command that ever prints a token, once, at creation.
import { Option, type Command } from 'commander';
import { clientFor } from '../config.js';
import { ago, isoTime, note, printJson, printTable } from '../output.js';
import { integer } from '../args.js';

interface TokenRow { id: string; name: string; role: string; scope?: string | null; app?: string | null; expiresAt?: number | null; createdAt?: number }

export function registerToken(program: Command): void {
  const token = program.command('token').description('create, list and revoke API tokens (admin only)');

  token.command('create').description('create a token; its value is shown this once')
    .requiredOption('--name <name>', 'what the token is for')
    .addOption(new Option('--role <role>', 'what it may do').choices(['admin', 'user', 'agent']).makeOptionMandatory())
    .option('--ttl <seconds>', 'expire after this many seconds', integer(1, 10 * 365 * 86_400))
    .option('--app <name>', "agent tokens: bind it to this autoscaler app, so it may register the app's workers and read their secrets")
    .option('--clearml', 'print it as a ClearML credentials pair (access key, secret key) for clearml-agent (docs/clearml.md)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { name: string; role: 'admin' | 'user' | 'agent'; ttl?: number; app?: string; clearml?: boolean; json?: boolean }, cmd: Command) => {
      const created = await clientFor(cmd.optsWithGlobals()).createToken(opts.name, opts.role, opts.ttl, { app: opts.app });
      // A ClearML access key is the token's id, its secret key the token (stored hashed, like every token).
      if (opts.clearml) {
        const pair = { accessKey: created.id, secretKey: created.token };
        if (opts.json) return printJson({ ...pair, id: created.id, name: created.name, role: created.role });
        note(`token "${opts.name}" (${created.role}) created as a ClearML key pair; store the secret key now, it is not shown again.`);
        note('put them in clearml.conf: api { credentials { access_key, secret_key } }, api_server: <this server>/clearml');
        process.stdout.write(`access_key: ${pair.accessKey}\nsecret_key: ${pair.secretKey}\n`);
        return;
      }
      if (opts.json) return printJson(created);
      note(`token "${opts.name}" (${created.role}, id ${created.id}) created; store it now, it is not shown again:`);
      process.stdout.write(created.token + '\n');
    });

  token.command('list').description('list tokens (never their values)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const tokens: TokenRow[] = await clientFor(cmd.optsWithGlobals()).listTokens();
      if (opts.json) return printJson(tokens);
      printTable(tokens, [
        { header: 'ID', value: (t) => t.id },
        { header: 'NAME', value: (t) => t.name },
        { header: 'ROLE', value: (t) => t.role },
        { header: 'SCOPE', value: (t) => t.scope },
        { header: 'APP', value: (t) => t.app },
        { header: 'EXPIRES', value: (t) => (t.expiresAt ? isoTime(t.expiresAt) : 'never') },
        { header: 'CREATED', value: (t) => ago(t.createdAt) },
      ]);
    });

  token.command('revoke <id>').description('revoke a token: it stops working at once')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await clientFor(cmd.optsWithGlobals()).request<void>('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
      note(`token ${id} revoked`);
    });
}
