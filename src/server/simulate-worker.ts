// Runs the console's replays off the event loop: a replay is synchronous (up to seconds), and the control plane must
// keep answering agents meanwhile. Started by simulate.ts with the jobs and the configs; posts the results back.
import { parentPort, workerData } from 'node:worker_threads';
import { replayFigures, type ReplayInput } from './simulate.js';

const input = workerData as ReplayInput;
const results = [];
let index = 0;
try {
  for (; index < input.runs.length; index++) results.push(replayFigures(input.jobs, input.runs[index].config, input.runs[index].policy));
  parentPort!.postMessage({ ok: true, results });
} catch (e) {
  parentPort!.postMessage({ ok: false, message: (e as Error).message, index });
}
