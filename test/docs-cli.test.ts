// The docs cannot drift from the CLI: the flag reference in docs/configuration.md is what `npm run docs:flags`
// writes, and every `flotilla …` command in a code block of README.md and docs/*.md parses (commander only: the
// actions are replaced, nothing runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../src/cli/program.js';
import { flagReference, withReference } from '../src/cli/flag-reference.js';

const ROOT = resolve(import.meta.dirname, import.meta.dirname.includes(`${sep}dist${sep}`) ? '../..' : '..');
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

test('the flag reference in docs/configuration.md is up to date (else: npm run docs:flags)', () => {
  const page = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  assert.equal(page, withReference(page, flagReference(buildProgram())), 'docs/configuration.md is out of date: run `npm run docs:flags`');
});

/** Shell words of one command line: quotes, $(…) and backslash-newlines kept as one word; stops at | ; && ) # and redirections. */
export function shellCommands(script: string): string[][] {
  const text = script.replace(/\\\n/g, ' ').replace(/<([A-Za-z_][\w-]*)>/g, '$1'); // <ID> placeholders
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  const endWord = () => {
    if (word !== null) words.push(word);
    word = null;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const close = text.indexOf(c, i + 1);
      word = (word ?? '') + text.slice(i + 1, close < 0 ? undefined : close);
      i = close < 0 ? text.length : close;
    } else if (c === '$' && text[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        else if (text[j] === ')' && --depth === 0) break;
      }
      commands.push(...shellCommands(text.slice(i + 2, j)));
      word = (word ?? '') + 'SUBSTITUTED';
      i = j;
    } else if (c === '#' && word === null) {
      while (i < text.length && text[i] !== '\n') i++;
      endCommand();
    } else if (c === '\n' || c === ';' || c === '|' || c === '&' || c === ')' || c === '(') {
      endCommand();
    } else if (c === '>' || c === '<') {
      endCommand(); // what follows a redirection is a file name, not an argument
      while (i + 1 < text.length && !/[\n;|&]/.test(text[i + 1]!)) i++;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else {
      word = (word ?? '') + c;
    }
  }
  endCommand();
  return commands;
}

/** `flotilla …` commands of a page's shell code blocks, with the line of the block. */
function docCommands(page: string): { line: number; args: string[] }[] {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const out: { line: number; args: string[] }[] = [];
  const block = /^```(\w*)\n([\s\S]*?)^```/gm;
  for (let m; (m = block.exec(text)); ) {
    if (!['', 'sh', 'bash', 'shell', 'console'].includes(m[1]!)) continue;
    const line = text.slice(0, m.index).split('\n').length;
    // Unlabelled and console blocks mix commands with their output: only their `$ ` lines are commands.
    const prompted = m[1] === '' || m[1] === 'console';
    const body = m[2]!.split('\n').map((l) => (l.startsWith('$ ') ? l.slice(2) : prompted ? '' : l)).join('\n');
    for (const words of shellCommands(body)) {
      let k = 0;
      while (k < words.length && /^(\w+=|export$|do$|then$|else$|exec$|sudo$|time$|env$)/.test(words[k]!)) k++;
      if (words[k] === 'flotilla') out.push({ line, args: words.slice(k + 1) });
    }
  }
  return out;
}

/** Parses as `flotilla ARGS` would, with every action replaced: the error commander gives, or null. */
async function parseOnly(args: string[]): Promise<string | null> {
  const program = buildProgram();
  let err = '';
  const quiet = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ writeOut: () => {}, writeErr: (s) => (err += s) });
    if (cmd !== program) cmd.action(() => {});
    cmd.commands.forEach(quiet);
  };
  quiet(program);
  try {
    await program.parseAsync(args, { from: 'user' });
    return null;
  } catch (e) {
    if (e instanceof CommanderError && ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code)) return null;
    return (err || (e as Error).message).trim();
  }
}

test('every flotilla command in the code blocks of README.md and docs/*.md parses', async () => {
  const failures: string[] = [];
  let count = 0;
  for (const page of PAGES) {
    for (const { line, args } of docCommands(page)) {
      count++;
      const error = await parseOnly(args);
      if (error) failures.push(`${page} (block at line ${line}): flotilla ${args.join(' ')}\n    ${error}`);
    }
  }
  assert.ok(count >= 30, `found only ${count} commands: the extraction is broken`);
  assert.deepEqual(failures, []);
});

test('a wrong example is caught', async () => {
  assert.match((await parseOnly(['task', 'create', '--queue', 'q', '--prioriti', '3']))!, /unknown option '--prioriti'/);
  assert.match((await parseOnly(['task', 'create', '--command', 'x', '--priority', 'high']))!, /whole number/);
  assert.match((await parseOnly(['autoscaler', 'status']))!, /missing required argument 'name'/);
  assert.equal(await parseOnly(['task', 'logs', 'ID', '--follow']), null);
  assert.deepEqual(shellCommands('A=1 flotilla x "a b" $(flotilla y --json | jq .t) # c\nfor i in 1; do flotilla z <ID>; done'),
    [['flotilla', 'y', '--json'], [' jq', '.t'].map((s) => s.trim()), ['A=1', 'flotilla', 'x', 'a b', 'SUBSTITUTED'], ['for', 'i', 'in', '1'], ['do', 'flotilla', 'z', 'ID'], ['done']]);
});
