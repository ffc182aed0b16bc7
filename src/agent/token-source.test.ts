import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTokenFile, TokenSourceError } from './token-source.js';

function withFile(content: string, mode: number, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-token-'));
  try {
    const path = join(dir, 'token');
    writeFileSync(path, content);
    chmodSync(path, mode);
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a 0600 token file is read (trailing newline dropped) and kept unless told to delete it', () => {
  withFile('flt_abc\n', 0o600, (p) => {
    assert.equal(readTokenFile(p), 'flt_abc');
    assert.ok(existsSync(p));
    assert.equal(readTokenFile(p, { remove: true }), 'flt_abc');
    assert.ok(!existsSync(p));
  });
  withFile('flt_abc', 0o400, (p) => assert.equal(readTokenFile(p), 'flt_abc'));
});

test('a token file group or others may read or write is refused, naming chmod 600', () => {
  for (const mode of [0o644, 0o640, 0o604, 0o620, 0o660])
    withFile('flt_abc\n', mode, (p) => {
      assert.throws(() => readTokenFile(p, { remove: true }), (e: Error) =>
        e instanceof TokenSourceError && e.message.includes(`mode 0${mode.toString(8)}`) && e.message.includes(`chmod 600 ${p}`)
        && !e.message.includes('flt_abc'));
      assert.ok(existsSync(p), 'a refused file is not deleted');
    });
});

test('an empty, missing or multi-line token file is refused without echoing its content', () => {
  withFile('\n', 0o600, (p) => assert.throws(() => readTokenFile(p), /is empty/));
  withFile('flt_a\nflt_b\n', 0o600, (p) => assert.throws(() => readTokenFile(p), (e: Error) => /only the agent token/.test(e.message) && !e.message.includes('flt_')));
  assert.throws(() => readTokenFile('/nonexistent/flotilla-token'), /cannot open the token file/);
});

test('--token-fd reads a pipe to its end and closes it', () => {
  // A child reads fd 3 (a pipe fed by `echo` through the shell), then reports whether fd 3 is still open.
  const script = `import { readTokenFd } from ${JSON.stringify(new URL('./token-source.ts', import.meta.url).href)};
    import { fstatSync } from 'node:fs';
    const t = readTokenFd(3);
    let open = true; try { fstatSync(3); } catch { open = false; }
    console.log(JSON.stringify({ t, open }));`;
  const r = spawnSync('/bin/sh', ['-c', `echo flt_pipe | "${process.execPath}" --import tsx --input-type=module -e "$0" 3<&0`, script],
    { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { t: 'flt_pipe', open: false });
});
