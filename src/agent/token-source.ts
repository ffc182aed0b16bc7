// How `flotilla agent` gets its token without it ever being in its environment or on its command line:
// from a file only its owner may read (--token-file, 0600), or from an inherited file descriptor that the
// parent writes the token into and closes (--token-fd, a pipe: nothing on disk). Read once at start.
//
// Why not the environment: a process-mode task runs as the agent's user, and /proc/<agent pid>/environ
// shows the agent's *original* environment for as long as the agent lives (deleting the variable from
// process.env changes only the copy in memory).
import { closeSync, fstatSync, openSync, readSync, unlinkSync, constants } from 'node:fs';

/** A token is one line; anything longer than this is not a token (a wrong file). */
const MAX_TOKEN_BYTES = 4096;

export class TokenSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenSourceError';
  }
}

/** Reads an fd to its end (a pipe: until the writer closes it). Retries EAGAIN (a non-blocking pipe). */
function readAll(fd: number, what: string): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(MAX_TOKEN_BYTES + 1);
  const deadline = Date.now() + 30_000;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' && Date.now() < deadline) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        continue;
      }
      throw new TokenSourceError(`cannot read the token from ${what}: ${(e as Error).message}`);
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    total += n;
    if (total > MAX_TOKEN_BYTES) throw new TokenSourceError(`${what} holds more than ${MAX_TOKEN_BYTES} bytes: not a token`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function oneToken(text: string, what: string): string {
  const token = text.trim();
  if (!token) throw new TokenSourceError(`${what} is empty: it must hold the agent token`);
  if (/\s/.test(token)) throw new TokenSourceError(`${what} holds more than one line or word: it must hold only the agent token`);
  return token;
}

/**
 * Reads the token from a file that only its owner may read or write: a file with any group or other
 * permission bit is refused (a token other users can read is a token they hold). With remove, the file is
 * deleted once read (so a process-mode task, which runs as the same user, cannot read it later).
 */
export function readTokenFile(path: string, opts: { remove?: boolean } = {}): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOCTTY ?? 0));
  } catch (e) {
    throw new TokenSourceError(`cannot open the token file ${path}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd); // the file that was opened, not whatever the path names a moment later
    if (!st.isFile()) throw new TokenSourceError(`the token file ${path} is not a regular file`);
    const mode = st.mode & 0o777;
    if (mode & 0o077)
      throw new TokenSourceError(
        `the token file ${path} has mode ${mode.toString(8).padStart(4, '0')}: group or other users can read or change it; ` +
          `run \`chmod 600 ${path}\` (only its owner may read it)`,
      );
    const token = oneToken(readAll(fd, `the token file ${path}`), `the token file ${path}`);
    if (opts.remove) {
      try {
        unlinkSync(path);
      } catch (e) {
        throw new TokenSourceError(`cannot delete the token file ${path} after reading it: ${(e as Error).message}`);
      }
    }
    return token;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the token from an inherited file descriptor to its end (the parent writes the token and closes its
 * end), then closes it: afterwards the agent holds no descriptor that leads to the token.
 */
export function readTokenFd(fd: number): string {
  if (!Number.isInteger(fd) || fd < 3) throw new TokenSourceError(`--token-fd: ${fd} is not a descriptor above stderr (3 or more)`);
  try {
    fstatSync(fd);
  } catch {
    throw new TokenSourceError(`--token-fd ${fd}: no such open file descriptor (start the agent with the token on fd ${fd})`);
  }
  try {
    return oneToken(readAll(fd, `file descriptor ${fd}`), `file descriptor ${fd}`);
  } finally {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }
}
