#!/usr/bin/env node
// The `flotilla` command: every user action over the HTTP API, plus `server`, `up` and `agent`.
import { reportError } from './errors.js';
import { exitQuietlyWhenOutputCloses } from './output.js';
import { buildProgram } from './program.js';

exitQuietlyWhenOutputCloses();
const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err, program.opts());
}
