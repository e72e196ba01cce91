/**
 * Child process: classify latency with N stored examples for ONE side, embedding excluded.
 *
 * Each (side, N) runs in its own process so that peak RSS belongs to that side alone, so a peer that
 * exhausts the WASM heap (which can leave the backend unusable) cannot take the rest of the bench down,
 * and so the parent can kill a run that exceeds its time limit. Prints one JSON line on stdout.
 *
 * Usage: node --expose-gc --import tsx bench/classify-worker.ts '<WorkerArgs JSON>'
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { KNNClassifier } from '@tensorflow-models/knn-classifier';
import { useWasmBackend } from '../node/backend.js';
import { FewShotHead, type HeadKind } from '../src/head.js';
import { MODELS, type ModelName } from '../src/models.js';
import { median, now, peakRssMb, rssMb, round, sample } from './stats.js';
import { CLASS_COUNT, VectorSource } from './vectors.js';

export type WorkerSide = 'ours-prototype' | 'ours-knn' | 'peer';

export interface WorkerArgs {
  side: WorkerSide;
  n: number;
  model: ModelName;
  /** JSON file with `{ bases: number[][] }`: real embeddings of Caltech images. */
  basesFile: string;
  /** Measuring time per side (ms); more samples are taken while it lasts. */
  budgetMs: number;
  /** Peer only: give up adding one by one after this long and load the rest with setClassifierDataset. */
  peerAddBudgetMs: number;
}

export interface WorkerResult {
  side: WorkerSide;
  n: number;
  classes: number;
  /** How the store was filled: `add` (one call per example) or `setClassifierDataset` (peer fallback). */
  build: 'add' | 'setClassifierDataset';
  build_ms: number | null;
  /** Mean cost of one add while filling (amortised; includes the tensor creation on the peer side). */
  add_ms_per_example: number | null;
  /** Peer only: the first predictClass after adds, which concatenates every class matrix. */
  first_ms: number | null;
  /** Steady-state median. */
  median_ms: number | null;
  samples: number;
  /** Share of queries answered with their true class (sanity: both sides must be solving the same task). */
  accuracy: number | null;
  rss_after_build_mb: number;
  peak_rss_mb: number;
  backend: string | null;
  note?: string;
}

const QUERY_COUNT = 32;

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as WorkerArgs;
  const { bases } = JSON.parse(await readFile(args.basesFile, 'utf8')) as { bases: number[][] };
  const result = args.side === 'peer' ? await runPeer(args, bases) : runOurs(args, bases);
  // Exit explicitly: after a WASM abort the runtime may hold handles that keep the process alive.
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function runOurs(args: WorkerArgs, bases: number[][]): WorkerResult {
  const kind: HeadKind = args.side === 'ours-knn' ? 'knn' : 'prototype';
  // Defaults as FewShotClassifier.open uses them: k = 10 for knn, the model's temperature.
  const head = new FewShotHead({ dim: MODELS[args.model].dim, kind, temperature: MODELS[args.model].temperature });
  const source = new VectorSource(bases);
  // Only the add calls are timed: generating the noisy vectors costs more than adding them.
  let buildMs = 0;
  for (const { label, vector, index } of source.examples(args.n)) {
    const t0 = now();
    head.add(`e${index}`, label, vector);
    buildMs += now() - t0;
  }
  gc();
  const rssAfterBuild = rssMb();
  const queries = source.queries(QUERY_COUNT, args.n);
  let correct = 0;
  for (const q of queries) if (head.classify(q.vector).label === q.label) correct++;
  let next = 0;
  const classifyNext = (): unknown => head.classify((queries[next++ % QUERY_COUNT] as { vector: Float32Array }).vector);
  for (let i = 0; i < 20; i++) classifyNext(); // JIT warm-up
  const times = sampleSync(classifyNext, args.budgetMs);
  return {
    side: args.side,
    n: args.n,
    classes: head.listClasses().length,
    build: 'add',
    build_ms: round(buildMs),
    add_ms_per_example: round(buildMs / args.n),
    first_ms: null,
    median_ms: round(median(times)),
    samples: times.length,
    accuracy: round(correct / queries.length),
    rss_after_build_mb: rssAfterBuild,
    peak_rss_mb: peakRssMb(),
    backend: null, // plain TypeScript, no tensors
  };
}

/** Synchronous sampling loop (no await between calls: ours is microseconds per call). */
function sampleSync(fn: () => unknown, budgetMs: number): number[] {
  const times: number[] = [];
  const start = now();
  while (times.length < 20_000 && (times.length < 50 || now() - start < budgetMs)) {
    const t0 = now();
    fn();
    times.push(now() - t0);
  }
  return times;
}

/**
 * The documented KNNClassifier flow: addExample(tensor, label) per example, then predictClass(query)
 * with its default k = 3. addExample re-concatenates the class matrix on every call (quadratic in the
 * class size), so at large N it is given a time budget; past it, the same vectors are loaded with the
 * peer's own setClassifierDataset (what an app restoring a saved dataset does) so predictClass can still
 * be measured, and the note says so.
 */
async function runPeer(args: WorkerArgs, bases: number[][]): Promise<WorkerResult> {
  const backend = await useWasmBackend();
  if (tf.getBackend() !== 'wasm') throw new Error(`Peer classify is not on wasm (${tf.getBackend()}).`);
  const dim = MODELS[args.model].dim;
  const notes: string[] = [];
  let knn = new KNNClassifier();
  let addMs = 0;
  let added = 0;
  let build: WorkerResult['build'] = 'add';
  for (const { label, vector } of new VectorSource(bases).examples(args.n)) {
    if (addMs > args.peerAddBudgetMs) {
      build = 'setClassifierDataset';
      break;
    }
    // Timed: the tensor the docs would get from infer() (created here from the vector), and addExample.
    const t0 = now();
    const example = tf.tensor2d(vector, [1, dim]);
    knn.addExample(example, label);
    example.dispose();
    addMs += now() - t0;
    added++;
  }
  let buildMs: number | null = addMs;
  if (build === 'setClassifierDataset') {
    notes.push(
      `addExample x ${args.n} exceeded its ${Math.round(args.peerAddBudgetMs / 1000)} s budget after ${added} examples ` +
        `(${round(addMs / added)} ms each on average and growing with class size); the full set was loaded with setClassifierDataset instead.`,
    );
    knn.dispose();
    knn = new KNNClassifier();
    knn.setClassifierDataset(classMatrices(new VectorSource(bases), args.n, dim));
    buildMs = null; // not comparable with one-by-one adds
  }
  gc();
  const rssAfterBuild = rssMb();
  const queries = new VectorSource(bases).queries(QUERY_COUNT, args.n).map((q) => ({ label: q.label, tensor: tf.tensor2d(q.vector, [1, dim]) }));
  let firstMs: number | null = null;
  let times: number[] = [];
  let correct = 0;
  try {
    const t2 = now();
    await knn.predictClass((queries[0] as { tensor: tf.Tensor2D }).tensor);
    firstMs = now() - t2;
    for (const q of queries) if ((await knn.predictClass(q.tensor)).label === q.label) correct++;
    let next = 0;
    times = await sample(() => knn.predictClass((queries[next++ % QUERY_COUNT] as { tensor: tf.Tensor2D }).tensor), {
      minReps: 5,
      maxReps: 2000,
      budgetMs: args.budgetMs,
    });
    for (const q of queries) q.tensor.dispose();
    knn.dispose();
  } catch (error) {
    // Typically the WASM heap (4 GB max) running out; the backend is left unusable, so no cleanup.
    notes.push(
      `predictClass failed: ${error instanceof Error ? error.message : String(error)} ` +
        `(peak RSS ${peakRssMb()} MB; tfjs-backend-wasm's heap cannot grow past 4 GB).`,
    );
  }
  return {
    side: 'peer',
    n: args.n,
    classes: knn.getNumClasses(),
    build,
    build_ms: round(buildMs),
    add_ms_per_example: build === 'add' ? round(addMs / args.n) : round(addMs / Math.max(added, 1)),
    first_ms: round(firstMs),
    median_ms: round(median(times)),
    samples: times.length,
    accuracy: times.length > 0 ? round(correct / queries.length) : null,
    rss_after_build_mb: rssAfterBuild,
    peak_rss_mb: peakRssMb(),
    backend,
    ...(notes.length > 0 ? { note: notes.join(' ') } : {}),
  };
}

/** The same N vectors, unit length (addExample would normalise them), as one `[count, dim]` matrix per class. */
function classMatrices(vectors: VectorSource, n: number, dim: number): Record<string, tf.Tensor2D> {
  const classes = Math.min(CLASS_COUNT, n);
  const perClass = Array.from({ length: classes }, (_, c) => new Float32Array(Math.ceil((n - c) / CLASS_COUNT) * dim));
  for (const { vector, index } of vectors.examples(n)) {
    let norm = 0;
    for (const v of vector) norm += v * v;
    const scale = 1 / Math.sqrt(norm);
    const target = perClass[index % CLASS_COUNT] as Float32Array;
    const row = Math.floor(index / CLASS_COUNT);
    for (let d = 0; d < dim; d++) target[row * dim + d] = (vector[d] as number) * scale;
  }
  const matrices: Record<string, tf.Tensor2D> = {};
  perClass.forEach((values, c) => {
    matrices[vectors.labelOf(c)] = tf.tensor2d(values, [values.length / dim, dim]);
  });
  return matrices;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
