// npm run docs:flags: rewrites the generated flag reference in docs/configuration.md from the commander definitions.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../src/cli/program.js';
import { flagReference, withReference } from '../src/cli/flag-reference.js';

const page = join(import.meta.dirname, '..', 'docs', 'configuration.md');
const before = readFileSync(page, 'utf8');
const after = withReference(before, flagReference(buildProgram()));
writeFileSync(page, after);
process.stderr.write(after === before ? 'docs/configuration.md: flag reference already up to date\n' : 'docs/configuration.md: flag reference rewritten\n');
