// flotilla simulate: replay a job trace through an autoscaler config on a virtual clock.
import { InvalidArgumentError, type Command } from 'commander';
import { integer } from '../args.js';
import { printJson, printTable } from '../output.js';
import type { PolicyName } from '../../sim/run.js';
import type { TraceJob } from '../../sim/trace.js';
import type { AppConfig } from '../../domain/autoscaler/config.js';

interface SimulateFlags {
  trace: string;
  config: string;
  policy: PolicyName;
  seed: number;
  columns?: string;
  frontier?: boolean;
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
    .option('--frontier', 'replay the trace with the warm pool off, fixed 1 and 2, auto at 2 % and 5 % of the $/h cap, then on-demand against spot with fallback at two interruption rates (docs/simulator.md)')
    .option('--json', 'print the result as one JSON object')
    .action(async (flags: SimulateFlags) => {
      // Loaded here, not at start-up: every other command (the agent too) would pay for the simulator.
      const [{ resultRows }, { loadAppConfig, loadTrace }, { runSimulation }, { parseColumnMap }] = await Promise.all([
        import('../../sim/format.js'), import('../../sim/load.js'), import('../../sim/run.js'), import('../../sim/trace.js')]);
      const config = loadAppConfig(flags.config);
      const jobs = loadTrace(flags.trace, parseColumnMap(flags.columns));
      if (flags.frontier) return frontier(jobs, config, flags);
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

async function frontier(jobs: TraceJob[], config: AppConfig, flags: SimulateFlags): Promise<void> {
  const { warmFrontier, spotComparison, FRONTIER_COLUMNS } = await import('../../sim/frontier.js');
  const warm = warmFrontier(jobs, config, flags.seed);
  const spot = spotComparison(jobs, config, flags.seed);
  if (flags.json) return printJson({ warm, spot });
  printTable(warm, FRONTIER_COLUMNS.slice(0, 9));
  process.stdout.write('\n');
  printTable(spot, FRONTIER_COLUMNS);
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
