// Reading the simulator's inputs from files, with errors that name the file, the field or line, and the fix.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { AppConfigSchema, type AppConfig } from '../domain/autoscaler/config.js';
import { checkConfig } from '../domain/config-keys.js';
import { parseTrace, type ColumnMap, type TraceJob } from './trace.js';

export function loadAppConfig(path: string): AppConfig {
  const doc = parseYamlFile(path);
  const parsed = checkConfig(AppConfigSchema, doc);
  if (parsed.success) return parsed.data;
  const lines = parsed.issues.map((i) => `  ${i.unknownKey ? i.message : `${i.path.join('.') || '(top level)'}: ${i.message}`}`);
  throw new Error(`${path} is not a valid autoscaler app config:\n${lines.join('\n')}`);
}

export function loadTrace(path: string, columns?: ColumnMap): TraceJob[] {
  return parseTrace(readText(path, 'trace'), columns, path);
}

function parseYamlFile(path: string): unknown {
  try {
    return YAML.parse(readText(path, 'config'));
  } catch (err) {
    if (err instanceof YAML.YAMLParseError) throw new Error(`${path}: ${err.message}`);
    throw err;
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
