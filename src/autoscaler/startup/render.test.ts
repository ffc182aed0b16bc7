import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { USER_DATA_LIMIT, renderStartupScript, type StartupScriptOptions } from './render.js';

const TOKEN = 'boot-0123456789abcdef0123456789abcdef';
const base: StartupScriptOptions = {
  cloud: 'aws',
  serverUrl: 'https://flotilla.example.com/',
  bootstrapToken: TOKEN,
  version: '0.1.0',
  appId: 'app1',
  resource: 'gpu',
  queues: ['q1', 'q2'],
  image: 'docker.io/pytorch/pytorch:2.4.0',
  agentArgs: ['--allow-mount', '/data'],
};

function bashSyntaxOk(script: string): void {
  const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

for (const cloud of ['aws', 'gcp', 'none'] as const)
  test(`${cloud}: valid bash, under 16 KB, never traces, the token appears once`, () => {
    const script = renderStartupScript({ ...base, cloud, extraScript: 'apt-get install -y nvtop\n' });
    bashSyntaxOk(script);
    assert.ok(Buffer.byteLength(script) < USER_DATA_LIMIT, `${Buffer.byteLength(script)} bytes`);
    assert.doesNotMatch(script, /set -[a-z]*x|set -o xtrace/);
    assert.equal(script.split(TOKEN).length - 1, 1);
    assert.match(script, /^#!\/bin\/bash\n/);
    assert.match(script, /FLOTILLA_SERVER='https:\/\/flotilla.example.com'/);
  });

test('the agent command line: queues, worker id from the instance, image, extra args', () => {
  const script = renderStartupScript(base);
  assert.match(
    script,
    /\n"\$NODE" "\$AGENT_DIR\/dist\/src\/cli\/main.js" agent --server 'https:\/\/flotilla.example.com\/' --queue 'q1,q2' --worker-id "\$INSTANCE_ID" --instance-id "\$INSTANCE_ID" --app 'app1' --resource 'gpu' --interruptions aws --metadata-url "\$METADATA_URL" --docker 'docker.io\/pytorch\/pytorch:2.4.0' '--allow-mount' '\/data'/,
  );
  assert.match(script, /latest\/api\/token/, 'IMDSv2 on AWS');
  assert.match(renderStartupScript({ ...base, cloud: 'gcp' }), /Metadata-Flavor: Google/);
});

test('values cannot break out of their quotes', () => {
  const script = renderStartupScript({ ...base, image: "img'; touch /tmp/pwned; '", agentArgs: ['$(reboot)', '`id`'] });
  bashSyntaxOk(script);
  assert.match(script, /--docker 'img'\\''; touch \/tmp\/pwned; '\\'''/);
  assert.match(script, /'\$\(reboot\)' '`id`'/);
});

test("the app's script goes in verbatim through a quoted here-document", () => {
  const extra = "echo \"$HOME\" 'quoted'\nEOF\nRUN_AGENT_EOF\n";
  const script = renderStartupScript({ ...base, extraScript: extra });
  bashSyntaxOk(script);
  assert.ok(script.includes(extra));
});

test('errors name the field', () => {
  assert.throws(() => renderStartupScript({ ...base, bootstrapToken: 'short' }), /bootstrapToken/);
  // The store's tokens (flt_ + base64url) are accepted.
  renderStartupScript({ ...base, bootstrapToken: 'flt_Ab-9_zQ0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1w' });
  assert.throws(() => renderStartupScript({ ...base, bootstrapToken: `${TOKEN}\r\nX-Evil: 1` }), /bootstrapToken/);
  assert.throws(() => renderStartupScript({ ...base, serverUrl: 'ftp://x' }), /serverUrl/);
  assert.throws(() => renderStartupScript({ ...base, queues: [] }), /queues/);
  assert.throws(() => renderStartupScript({ ...base, agentArgs: ['a\nb'] }), /execution.agentArgs\[0\]: must be one line/);
  assert.throws(
    () => renderStartupScript({ ...base, extraScript: 'x'.repeat(USER_DATA_LIMIT) }),
    /over the 16384-byte user-data limit: shorten execution.startupScript/,
  );
});
