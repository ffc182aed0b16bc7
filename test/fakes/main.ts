// The fakes as commands a person can start (npm run fake:gce|fake:k8s|fake:git -- --port N): they run until Ctrl-C
// and print how to point Flotilla at them. docs/providers.md and docs/kubernetes.md walk through using them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const [kind, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    port: { type: 'string', default: '0' }, repo: { type: 'string' }, name: { type: 'string' },
    user: { type: 'string', default: 'flotilla' }, password: { type: 'string', default: 'flotilla' },
    nodes: { type: 'string', default: '1' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: give a port number, not "${values.port}"`);
const say = (line: string) => process.stderr.write(line + '\n');
let close: () => Promise<unknown>;

if (kind === 'gce') {
  const { startFakeGce } = await import('./gce/server.js');
  const fake = await startFakeGce(undefined, { port });
  close = fake.close;
  say(`fake Compute Engine API on http://127.0.0.1:${fake.port} (any project, any zone; machines never boot)`);
  say('in an app file, provider.settings:');
  say(`  {project: demo, zone: us-central1-a, apiEndpoint: 127.0.0.1, port: ${fake.port}, protocol: http}`);
} else if (kind === 'k8s') {
  const { FakeKubernetes } = await import('./k8s/index.js');
  const nodes = Array.from({ length: Number(values.nodes) }, (_, i) => ({ name: `node-${i + 1}`, cpu: 4, memory: '16Gi', pods: 110 }));
  const fake = await FakeKubernetes.start({ port, nodes });
  close = () => fake.close();
  const file = join(mkdtempSync(join(tmpdir(), 'flotilla-fake-k8s-')), 'kubeconfig');
  writeFileSync(file, fake.kubeConfig().exportConfig(), { mode: 0o600 });
  say(`fake Kubernetes API server on ${fake.url} with ${nodes.length} node(s) of 4 CPU / 16Gi`);
  say('  pods are scheduled onto the nodes but run no containers: they stay as scheduled (it is the tests\' fake)');
  say(`  export KUBECONFIG=${file}`);
} else if (kind === 'git') {
  if (!values.repo) throw new Error('--repo DIR: the git repository to serve');
  const { startGitServer } = await import('../support/git-server.js');
  const server = await startGitServer({ username: values.user!, password: values.password!, port });
  close = server.close;
  const url = await server.serveRepo(values.name ?? basename(resolve(values.repo)), resolve(values.repo));
  say(`git over HTTP (basic auth ${values.user}:${values.password}) serving a bare clone of ${resolve(values.repo)}:`);
  say(`  ${url}`);
  say(`  FLOTILLA_GIT_USER=${values.user} FLOTILLA_GIT_PASSWORD=${values.password} flotilla agent …   # or flotilla secret set NAME --kind git`);
} else {
  throw new Error(`give gce, k8s or git (npm run fake:${kind ?? 'gce'} -- --port N)`);
}
say('Stop it with Ctrl-C.');
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void close().then(() => process.exit(0)));
