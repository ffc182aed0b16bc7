// The console session's cookie and header, read by auth.ts on every request (the routes are in session.ts).
import type { FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'flotilla_session';
/** The header a console request that changes something carries (a cross-site form cannot send one). */
export const CONSOLE_HEADER = 'x-flotilla-console';
/** A working day and some: a person signs in again each morning; a stolen cookie is good for a day at most. */
export const SESSION_TTL_MS = 12 * 3_600_000;

export function sessionIdOf(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

