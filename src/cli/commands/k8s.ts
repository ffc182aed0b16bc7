// flotilla k8s-glue (run the Kubernetes glue standalone), flotilla k8s validate|journal.
import type { Command } from 'commander';
import { clientFor, missingTokenHints, resolveConnection } from '../config.js';
import { integer } from '../args.js';
import { isoTime, note, printJson, printTable, reasonOf } from '../output.js';

export function registerK8s(program: Command): void {
  program.command('k8s-glue')
    .description('run the Kubernetes glue: one pod per queued task (token: FLOTILLA_TOKEN, an admin token)')
    .requiredOption('--config <file>', 'glue.yaml: queues in priority order with pod templates and limits')
    .option('--kubeconfig <path>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, or the in-cluster service account)')
    .action(async (o: { config: string; kubeconfig?: string }, cmd: Command) => runGlue(o, cmd.optsWithGlobals()));

  const k8s = program.command('k8s').description('the Kubernetes glue: check its config, read its journal');
  k8s.command('validate').description('check a glue config file (and the template files it names)')
    .requiredOption('--config <file>', 'glue.yaml')
    .action(async (o: { config: string }) => {
      const { loadGlueConfigFile } = await import('../../k8s/config.js');
      const cfg = await loadGlueConfigFile(o.config);
      note(`${o.config}: valid; ${cfg.queues.length} queue(s) in priority order, at most ${cfg.maxPods} pods`);
      for (const q of cfg.queues) note(`  ${q.name}: at most ${q.maxPods} pods${q.namespace ? ` in ${q.namespace}` : ''}`);
    });
  k8s.command('journal').description("the glue's journal, newest first")
    .option('--queue <name>', 'only this queue').option('--limit <n>', 'rows', integer(1, 1000), 30).option('--json', 'print JSON')
    .action(async (o: { queue?: string; limit: number; json?: boolean }, cmd: Command) => {
      const rows = await clientFor(cmd.optsWithGlobals()).k8sJournalRows({ queue: o.queue, limit: o.limit });
      if (o.json) return printJson(rows);
      printTable(rows, [
        { header: 'AT', value: (d) => isoTime(d.at) }, { header: 'KIND', value: (d) => d.kind },
        { header: 'QUEUE', value: (d) => d.queue }, { header: 'REASON', value: (d) => reasonOf(d) },
      ]);
    });
}

async function runGlue(o: { config: string; kubeconfig?: string }, globals: { server?: string }): Promise<void> {
  const { loadGlueConfigFile } = await import('../../k8s/config.js');
  const { Glue } = await import('../../k8s/glue.js');
  const { defaultNamespace, Kube, loadKubeConfig } = await import('../../k8s/kube.js');
  const config = await loadGlueConfigFile(o.config);
  const conn = resolveConnection(globals);
  if (!conn.token) throw new Error(missingTokenHints(conn).join('\n  '));
  const kc = loadKubeConfig(o.kubeconfig);
  const log = (msg: string) => note(`${new Date().toISOString()} ${msg}`);
  const glue = new Glue({ config, kube: new Kube(kc), client: clientFor(globals), namespace: defaultNamespace(kc), log });
  await glue.start();
  log(`k8s glue for queues ${config.queues.map((q) => q.name).join(', ')} (control plane ${conn.server})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping (pods keep running; a restarted glue adopts them)`);
      glue.stop().then(resolve, resolve);
    };
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => stop(signal));
  });
}
