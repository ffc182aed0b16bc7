// flotilla login --server URL: the token comes from stdin or a prompt that does not echo, never a flag,
// is checked against the server, and is saved to the login file with mode 0600.
import type { Command } from 'commander';
import { FlotillaClient } from '../../client/index.js';
import { resolveConnection, writeCredentials } from '../config.js';
import { note } from '../output.js';

export function registerLogin(program: Command): void {
  program.command('login').description('save a server URL and token for later commands (token read from stdin or a prompt)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { server } = resolveConnection(cmd.optsWithGlobals());
      const token = (process.stdin.isTTY ? await promptHidden(`Token for ${server}: `) : await readAll(process.stdin)).trim();
      if (!token) throw new Error('no token given: paste it at the prompt or pipe it on stdin (echo "$TOKEN" | flotilla login)');
      const me = await new FlotillaClient(server, token).request<{ name: string; role: string }>('GET', '/api/v1/whoami');
      const file = writeCredentials({ server, token });
      note(`logged in to ${server} as "${me.name}" (${me.role}); saved to ${file}`);
    });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

/** Reads one line from the terminal in raw mode, echoing nothing. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  stdin.setRawMode(true); // before the prompt, so nothing typed early is echoed
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}
