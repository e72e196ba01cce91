#!/usr/bin/env node
/**
 * The CLI in one minute: learn five classes from ONE photo each, then classify photos it has never seen.
 * Runs the real `fewshot` commands in a throw-away store and prints them as it goes.
 *
 *   npm run demo [-- --data DIR]   DIR/<class>/*.jpg; default: Caltech-101 in FEWSHOT_DATASETS or ../shared/datasets
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const datasets = process.env.FEWSHOT_DATASETS || join(repo, '..', 'shared', 'datasets');
const { values } = parseArgs({ options: { data: { type: 'string', default: join(datasets, 'caltech101', 'images') } } });
const store = mkdtempSync(join(tmpdir(), 'fewshot-demo-'));
const cli = join(repo, 'dist', 'node', 'cli.js');

function fewshot(...args) {
  const shown = args.map((a) => (a.startsWith('/') ? relative(process.cwd(), a) : a));
  console.log(`$ fewshot ${shown.length > 6 ? [...shown.slice(0, 4), `... (${shown.length - 4} more files)`].join(' ') : shown.join(' ')}`);
  const out = execFileSync(process.execPath, [cli, '--store', store, ...args], { encoding: 'utf8' });
  console.log(out.trimEnd().replace(/^/gm, '  ').replaceAll(`${values.data}/`, ''));
  return out;
}

const classes = ['okapi', 'anchor', 'cellphone', 'brontosaurus', 'crab'].filter((c) => {
  try {
    return readdirSync(join(values.data, c)).length > 3;
  } catch {
    return false;
  }
});
const pick = classes.length >= 2 ? classes : readdirSync(values.data).slice(0, 5);
const files = (c) => readdirSync(join(values.data, c)).sort().map((f) => join(values.data, c, f));

console.log(`Learning ${pick.length} classes from one photo each (store: ${store})\n`);
for (const c of pick) fewshot('add', c, files(c)[0]);
fewshot('list');
console.log('\nClassifying photos it has never seen:\n');
const queries = pick.flatMap((c) => files(c).slice(1, 3));
const lines = fewshot('classify', ...queries).trim().split('\n');
const right = lines.filter((line) => {
  const [file, label] = line.split('\t');
  return file.split('/').at(-2) === label;
}).length;
console.log(`\n${right} of ${lines.length} held-out photos classified correctly after one example per class.`);
