#!/usr/bin/env node
/**
 * `fewshot`: learn image classes from a few examples and classify, from a shell.
 * With --json every command prints exactly one JSON object on stdout (errors too: {"error": {code, message}}).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Prediction } from '../src/head.js';
import { FewshotError, isFewshotError } from '../src/errors.js';
import { DEFAULT_MODEL, isModelName, MODELS, type ModelName } from '../src/models.js';
import { runEval, type EvalResult } from './eval.js';
import { EmbeddingCache } from './embedding-cache.js';
import { useWasmBackend } from './backend.js';
import { DEFAULT_DOWNLOAD_TIMEOUT_MS } from './download.js';
import { fetchModels } from './fetch-model.js';
import { createClassifier, defaultModelDir, defaultStoreDir, loadNodeEmbedder } from './index.js';

interface GlobalOptions {
  user: string;
  store: string;
  model: ModelName;
  json: boolean;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer.');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('not a positive number of seconds.');
  return n;
}

function modelName(value: string): ModelName {
  if (!isModelName(value)) throw new InvalidArgumentError(`choose one of ${Object.keys(MODELS).join(', ')}.`);
  return value;
}

const program = new Command('fewshot')
  .description('One-shot image classes from a frozen MobileNet: add examples, classify, evaluate.')
  .option('--user <id>', 'whose classes to use', process.env.FEWSHOT_USER || 'default')
  .option('--store <dir>', 'example store folder (env FEWSHOT_STORE)', defaultStoreDir())
  .addOption(new Option('--model <name>', 'embedding model').argParser(modelName).default(DEFAULT_MODEL))
  .option('--json', 'print one JSON object on stdout', false)
  .showHelpAfterError()
  .exitOverride();

let json = false;
const globals = (): GlobalOptions => program.opts<GlobalOptions>();
const emit = (object: unknown, human: string) => process.stdout.write(json ? `${JSON.stringify(object)}\n` : `${human}\n`);
/**
 * Opens the user's classifier. Worker threads pay for themselves only on many images (each loads its own
 * copy of the model), so short commands run the model in this thread.
 */
const open = (images = 0) => {
  const { user, store, model } = globals();
  return createClassifier({ userId: user, store, model, ...(images < 8 ? { workers: 0 } : {}) });
};

program
  .command('add')
  .description('learn one or more example images of a class')
  .argument('<label>', 'class name')
  .argument('<images...>', 'JPEG or PNG files')
  .action(async (label: string, files: string[]) => {
    const clf = await open(files.length);
    const images = await Promise.all(files.map(readImageFile));
    const added = await clf.addExamples(label, images);
    const last = added[added.length - 1];
    emit(
      { label: last?.label, count: last?.count, added: added.map((a, i) => ({ ...a, file: files[i] })) },
      `learnt ${added.length} example${added.length === 1 ? '' : 's'} of "${last?.label}" (${last?.count} in all)`,
    );
  });

program
  .command('classify')
  .description('classify images against the learnt classes')
  .argument('<images...>', 'JPEG or PNG files')
  .action(async (files: string[]) => {
    const clf = await open(files.length);
    const results: Record<string, unknown>[] = [];
    const lines: string[] = [];
    let failed = 0;
    // Each file on its own, so one bad file is reported on its line instead of failing the others; a few at a
    // time, so worker threads share the load.
    for (let start = 0; start < files.length; start += 16) {
      const chunk = files.slice(start, start + 16);
      const settled = await Promise.allSettled(chunk.map(async (file) => clf.classify(await readImageFile(file))));
      settled.forEach((outcome, i) => {
        const file = chunk[i] as string;
        if (outcome.status === 'fulfilled') {
          results.push({ file, ...outcome.value });
          lines.push(`${file}\t${describe(outcome.value)}`);
          return;
        }
        const err = outcome.reason;
        if (!isFewshotError(err) || err.code === 'NO_CLASSES') throw err;
        failed++;
        results.push({ file, error: { code: err.code, message: err.message } });
        lines.push(`${file}\terror ${err.code}: ${err.message}`);
      });
    }
    emit({ results }, lines.join('\n'));
    if (failed > 0) process.exitCode = 1;
  });

program
  .command('list')
  .description('list the learnt classes')
  .action(async () => {
    const clf = await open();
    const info = clf.info();
    const classes = clf.listClasses();
    emit(
      { user: info.userId, model: info.model, classes, examples: info.examples },
      classes.length === 0 ? 'no classes yet' : classes.map((c) => `${c.label}\t${c.count}`).join('\n'),
    );
  });

program
  .command('remove')
  .description('forget a class and all its examples')
  .argument('<label>', 'class name')
  .action(async (label: string) => {
    const clf = await open();
    const removed = await clf.removeClass(label);
    emit({ removed: { label, examples: removed } }, `removed "${label}" (${removed} examples)`);
  });

program
  .command('export')
  .description('print all examples of the user in the portable JSON format')
  .action(async () => {
    const doc = await (await open()).export();
    process.stdout.write(`${JSON.stringify(doc)}\n`);
  });

program
  .command('import')
  .description('add the examples of an exported JSON file')
  .argument('<file>', 'a file written by `fewshot export`')
  .action(async (file: string) => {
    const added = await (await open()).import(await readFile(file, 'utf8'));
    emit({ imported: added }, `imported ${added} examples`);
  });

program
  .command('eval')
  .description('seeded N-way K-shot accuracy on a folder of class folders: our head, the plain prototype and the peer k-NN')
  .requiredOption('--data <dir>', 'DIR/<class>/*.jpg|png, or DIR/images/<class>/... (DIR/one_shot_runs: Omniglot official runs)')
  .option('--ways <n>', 'classes per episode (default: the suite 5 and 20 ways, 1 and 5 shots)', integer)
  .option('--shots <n>', 'examples per class', integer)
  .option('--queries <n>', 'query images per class', integer, 15)
  .option('--episodes <n>', 'episodes per 5-way setting (a third for wider ones)', integer, 300)
  .option('--seed <n>', 'random seed', integer, 1)
  .addOption(new Option('--head <kind>', 'head').choices(['prototype', 'knn']).default('prototype'))
  .option('--k <n>', 'neighbours for --head knn', integer, 10)
  .option('--plain', 'plain cosine instead of the centred transform', false)
  .option('--no-flip', 'do not average embeddings with the mirror image')
  .option('--no-peer', 'skip the peer (@tensorflow-models/knn-classifier)')
  .option('--cache <dir>', 'keep embeddings in this folder between runs (env FEWSHOT_CACHE)', process.env.FEWSHOT_CACHE)
  .action(async (o: EvalCommandOptions) => {
    const { model } = globals();
    const spec = MODELS[model];
    const embedder = await loadNodeEmbedder({ model });
    if (o.peer) await useWasmBackend();
    const caches = o.cache
      ? { plainCache: await EmbeddingCache.open(o.cache, `${model}@${spec.version}`, spec.dim), flipCache: await EmbeddingCache.open(o.cache, `${model}@${spec.version}+flip`, spec.dim) }
      : {};
    const r = await runEval(embedder, {
      data: o.data,
      ...(o.ways !== undefined ? { ways: o.ways } : {}),
      ...(o.shots !== undefined ? { shots: o.shots } : {}),
      queries: o.queries,
      episodes: o.episodes,
      seed: o.seed,
      head: { kind: o.head, k: o.k, ...(o.plain ? { transform: 'plain' as const } : {}) },
      flip: o.flip,
      peer: o.peer,
      ...caches,
      onProgress: (message) => {
        if (!json && process.stderr.isTTY) process.stderr.write(`\r${message}   `);
      },
    });
    await caches.plainCache?.save();
    await caches.flipCache?.save();
    if (!json && process.stderr.isTTY) process.stderr.write('\n');
    emit(r, describeEval(r));
  });

interface EvalCommandOptions {
  data: string;
  ways?: number;
  shots?: number;
  queries: number;
  episodes: number;
  seed: number;
  head: 'prototype' | 'knn';
  k: number;
  plain: boolean;
  flip: boolean;
  peer: boolean;
  cache?: string;
}

const percent = (stat: { accuracy: number; ci95: number } | null) => (stat ? `${(100 * stat.accuracy).toFixed(2)}% ± ${(100 * stat.ci95).toFixed(2)}` : '-');

function describeEval(r: EvalResult): string {
  const lines = r.settings.map(
    (s) =>
      `${s.ways}-way ${s.shots}-shot, ${s.episodes} episodes, ${r.model} ${r.head}: accuracy ${percent(s.ours)} (95% CI); ` +
      `plain prototype ${percent(s.plain)}; peer k=3 ${percent(s.peer_k3)}, k=1 ${percent(s.peer_k1)}; ECE ${s.ece.toFixed(3)}` +
      (s.open_set ? `; unknown AUROC ${s.open_set.auroc.toFixed(3)}, false unknown ${(100 * s.open_set.false_unknown).toFixed(1)}%, caught ${(100 * s.open_set.caught_unknown).toFixed(1)}%` : ''),
  );
  const o = r.official_runs;
  if (o) {
    const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);
    lines.push(`official one-shot runs (${o.runs} runs, ${o.trials} trials): ours ${pct(o.ours)}, plain ${pct(o.plain)}, peer k=1 ${pct(o.peer_k1)}, k=3 ${pct(o.peer_k3)}`);
  }
  return lines.join('\n');
}

program
  .command('fetch-model')
  .description('write the model folders (<out>/<folder>/model.json and its shards, or the .tflite): downloaded from the official URLs, or from --from')
  .option('--out <dir>', 'models folder: FEWSHOT_MODEL_DIR, else a per-user cache when installed, else the checkout\'s models/', defaultModelDir())
  .addOption(new Option('--dest <dir>').hideHelp()) // the former name of --out
  .option('--from <folder|url>', 'copy from a local folder laid out like the official one, or download from a mirror URL serving such folders')
  .addOption(new Option('--only <name>', 'one model only (the same as giving --model)').argParser(modelName))
  .option('--timeout <seconds>', 'limit per downloaded file', seconds, DEFAULT_DOWNLOAD_TIMEOUT_MS / 1000)
  .addHelpText('after', '\nAll models unless --model NAME (or --only NAME) picks one.')
  .action(async (o: { out: string; dest?: string; from?: string; only?: ModelName; timeout: number }) => {
    const out = resolve(o.dest ?? o.out);
    // The global --model has a default, so it picks one model only when typed (--only is its older synonym).
    const only = o.only ?? (program.getOptionValueSource('model') === 'cli' ? globals().model : undefined);
    const models = only ? [only] : (Object.keys(MODELS) as ModelName[]);
    const lines: string[] = [];
    const fetched = await fetchModels({ models, out, ...(o.from ? { from: o.from } : {}), timeoutMs: o.timeout * 1000, log: (l) => lines.push(l) });
    emit({ models, out, dest: out, fetched }, lines.join('\n')); // dest: the field's name before --out
  });

async function readImageFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new FewshotError('NOT_FOUND', `Cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
}

function describe(r: Prediction): string {
  const pct = `${(100 * r.confidence).toFixed(1)}%`;
  return r.unknown ? `unknown (nearest: ${r.label} ${pct})` : `${r.label}\t${pct}`;
}

async function main(): Promise<void> {
  json = process.argv.includes('--json');
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return;
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: err.message } })}\n`);
      process.exitCode = 2;
      return;
    }
    const code = isFewshotError(err) ? err.code : 'INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
    process.stderr.write(`fewshot: ${code}: ${message}\n`);
    process.exitCode = 1;
  }
}

await main();
