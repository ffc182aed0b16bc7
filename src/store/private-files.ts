// The data directory holds task commands, environments, logs, token hashes and the secret key: only the user
// the control plane runs as may read it. Modes are set explicitly (chmod after create), so a loose umask does not
// loosen them and a directory or file made by an earlier version is tightened on the next start.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

/** Creates `dir` (and missing parents, 0700) if needed and makes it 0700. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Creates `file` empty if missing and makes it 0600 (its contents are left alone). */
export function privateFile(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

/** Makes `file` 0600 if it exists. */
export function tightenIfExists(file: string): void {
  if (existsSync(file)) chmodSync(file, 0o600);
}
