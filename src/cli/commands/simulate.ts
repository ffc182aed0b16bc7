// flotilla simulate: replay a job trace through an autoscaler config on a virtual clock.
import { InvalidArgumentError, type Command } from 'commander';
import { integer } from '../args.js';
import { printJson, printTable } from '../output.js';
import type { PolicyName } from '../../sim/run.js';

interface SimulateFlags {
  trace: string;
  config: string;
  policy: PolicyName;
  seed: number;
  columns?: string;
  json?: boolean;
}

function policyName(value: string): PolicyName {
  if (value !== 'flotilla' && value !== 'clearml') throw new InvalidArgumentError('give flotilla or clearml');
  return value;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('replay a job trace through an autoscaler config: what it would cost and how long jobs would wait')
    .requiredOption('--trace <file>', 'CSV trace; ElasticFlow columns (job_id, submission_time, duration, num_gpu) unless --columns says otherwise')
    .requiredOption('--config <file>', 'autoscaler app config (YAML or JSON); routing and boot time under `simulation:`')
    .option('--policy <name>', 'flotilla (ours) or clearml (its AWS autoscaler, as it behaves)', policyName, 'flotilla')
    .option('--seed <n>', 'seed of the boot-time and fault draws: same seed, same figures', integer(0, 2 ** 32 - 1), 1)
    .option('--columns <map>', 'column names of another CSV, e.g. id=job,submit=ts,duration=secs,gpus=n_gpu (or queue=COLUMN)')
    .option('--json', 'print the result as one JSON object')
    .action(async (flags: SimulateFlags) => {
      // Loaded here, not at start-up: every other command (the agent too) would pay for the simulator.
      const [{ resultRows }, { loadAppConfig, loadTrace }, { runSimulation }, { parseColumnMap }] = await Promise.all([
        import('../../sim/format.js'), import('../../sim/load.js'), import('../../sim/run.js'), import('../../sim/trace.js')]);
      const config = loadAppConfig(flags.config);
      const jobs = loadTrace(flags.trace, parseColumnMap(flags.columns));
      const bar = process.stderr.isTTY ? progressBar() : undefined;
      const result = runSimulation({ jobs, config, policy: flags.policy, seed: flags.seed, onProgress: bar?.update });
      bar?.done();
      if (flags.json) printJson(result);
      else printTable(resultRows(result), [
        { header: 'FIGURE', value: (r) => r.figure },
        { header: 'VALUE', value: (r) => r.value },
      ]);
    });
}

/** A one-line bar on stderr, redrawn in place; only used when stderr is a terminal. */
function progressBar() {
  const width = 30;
  return {
    update: (f: number) => {
      const n = Math.round(f * width);
      process.stderr.write(`\rreplaying [${'#'.repeat(n)}${'.'.repeat(width - n)}] ${Math.round(f * 100)}%`);
    },
    done: () => process.stderr.write(`\r${' '.repeat(width + 20)}\r`),
  };
}
