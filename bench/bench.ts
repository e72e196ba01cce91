/**
 * npm run bench [-- --json] [--quick] [--model mobilenet_v2_100|mobilenet_v1_025|mobilenet_v3_small_075] [--sizes 100,1000,...]
 *
 * fewshot-edge against the pipeline the TF.js docs teach (MobileNet embeddings + @tensorflow-models/
 * knn-classifier), side by side in one run, same weights, same WASM backend (asserted on every side; for
 * mobilenet_v3_small_075 the peer's network is @litertjs/core's wasm on the same .tflite, bench/peer-litert.ts):
 *
 *  1. embedding latency per image, JPEG bytes in -> Float32Array out, decode included, interleaved; ours
 *     also with `flip: true` (image + mirror image in one batch, embeddings averaged) in the same rotation
 *  2. batched embedding, ms per image
 *  3. addExample latency (embed + store; ours with flip averaging, the classifier default, and with
 *     `flip: false`), and the head-only add
 *  4. classify latency with 100 .. 100,000 stored examples, embedding excluded (child process per side)
 *  5. cold start to the first embedding (fresh child processes, alternating)
 *  6. peak RSS of those child processes
 *
 * Progress goes to stderr; with --json stdout carries exactly one JSON object. See bench/README.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { KNNClassifier } from '@tensorflow-models/knn-classifier';
import { FewShotHead, MODELS, type Embedder, type ModelName } from '../node/index.js';
import { runChild } from './child.js';
import type { ColdStartResult, ColdStartSide } from './cold-start.js';
import type { WorkerArgs, WorkerResult, WorkerSide } from './classify-worker.js';
import { ensureModelDir, loadCaltechImages, parseModel, type BenchImage } from './env.js';
import { loadOurs, openOursClassifier, workerCount } from './ours.js';
import { loadPeer, type PeerPipeline } from './peer.js';
import { formatReport } from './report.js';
import { log, median, now, peakRssMb, ratio, round } from './stats.js';
import { cosine } from '../test/cosine.js';

// ---------------------------------------------------------------------------------------------- options

interface Options {
  model: ModelName;
  json: boolean;
  quick: boolean;
  sizes: number[];
}

/** How much of everything: `--quick` is a smoke run, the full run stays under ~10 min on 2 cores. */
interface Plan {
  images: number;
  rounds: number;
  /** Untimed single embeds per side first: each pool thread's WASM code needs dozens of calls to tier up. */
  warmups: number;
  batch: number;
  batchReps: number;
  batchWarmups: number;
  headAddReps: number;
  coldRuns: number;
  classifyBudgetMs: number;
  peerAddBudgetMs: number;
  classifyTimeoutMs: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
    },
    strict: true,
  });
  const sizes = (values.sizes ?? '100,1000,10000,100000').split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes takes positive integers, e.g. 100,1000; got "${values.sizes}".`);
  return { model: parseModel(values.model), json: values.json ?? false, quick: values.quick ?? false, sizes };
}

function planFor(quick: boolean): Plan {
  return quick
    ? { images: 8, rounds: 1, warmups: 8, batch: 8, batchReps: 2, batchWarmups: 1, headAddReps: 500, coldRuns: 1, classifyBudgetMs: 300, peerAddBudgetMs: 10_000, classifyTimeoutMs: 200_000 }
    : { images: 20, rounds: 3, warmups: 40, batch: 16, batchReps: 3, batchWarmups: 2, headAddReps: 2000, coldRuns: 3, classifyBudgetMs: 1500, peerAddBudgetMs: 120_000, classifyTimeoutMs: 200_000 };
}

// ------------------------------------------------------------------------------------------- the result

type Ms = number | null;

interface ClassifyRow {
  ours: Ms;
  ours_knn: Ms;
  peer: Ms;
  peer_first: Ms;
  note?: string;
}

interface Target {
  value: number | null;
  target: string;
  pass: boolean | null;
}

export interface BenchResult {
  model: ModelName;
  backend: 'wasm';
  quick: boolean;
  machine: { cpus: number; cpu_model: string; node: string; platform: string; arch: string; total_mem_gb: number; loadavg_start: number[]; loadavg_end: number[] };
  ours_workers: number;
  /** What runs the peer's network (`tfjs-wasm`, or the LiteRT build for mobilenet_v3_small_075). */
  peer_engine: string;
  images: { dataset: string; count: number; rounds: number };
  embed_ms: { ours: Ms; ours_in_thread: Ms; peer: Ms };
  embed_ratio: number | null;
  embed_ratio_in_thread: number | null;
  /** Ours with `embed(bytes, { flip: true })`, timed in the same rotation as `embed_ms` (same images, rounds). */
  embed_flip_ms: { ours: Ms; ours_in_thread: Ms };
  /** embed_flip_ms / embed_ms of the same config, same run. */
  embed_flip_ratio_vs_plain: { ours: number | null; ours_in_thread: number | null };
  /** embed_flip_ms / embed_ms.peer (the peer has no flip). */
  embed_flip_ratio_vs_peer: { ours: number | null; ours_in_thread: number | null };
  embedding_agreement: {
    cosine_ours_vs_peer_min: number | null;
    cosine_ours_vs_peer_median: number | null;
    max_abs_diff_pool_vs_thread: number | null;
    max_abs_diff_pool_vs_thread_flip: number | null;
    /** Cosine of the flip-averaged vs the plain embedding of the same image (in-thread). */
    cosine_flip_vs_plain_median: number | null;
  };
  batch_size: number;
  embed_batch_ms_per_image: { ours: Ms; ours_in_thread: Ms; peer: Ms };
  batch_speedup: number | null;
  batch_speedup_detail: { ours: number | null; ours_in_thread: number | null; peer: number | null };
  /** ours / ours_in_thread: createClassifier defaults, i.e. with flip averaging; *_noflip: `flip: false`. */
  add_example_ms: { ours: Ms; ours_in_thread: Ms; ours_noflip: Ms; ours_in_thread_noflip: Ms; peer: Ms; head_only: Ms; peer_knn_only: Ms };
  /** add_example_ms[side] / add_example_ms.peer. */
  add_example_ratio_vs_peer: Record<OursAddSide, number | null>;
  /** `info().flip` of each of our classifiers, as the library reports it. */
  add_example_flip: Record<OursAddSide, boolean>;
  classify_ms: Record<string, ClassifyRow>;
  classify_speedup_10000: number | null;
  classify_detail: Record<string, Partial<Record<'ours' | 'ours_knn' | 'peer', WorkerResult>>>;
  load_ms: { ours: Ms; ours_in_thread: Ms; peer: Ms };
  /** `pool_ready_ms`: ours only, from the clock's start until the pool's threads take over (null otherwise). */
  load_detail: Record<string, { phases_median: Record<string, Ms>; pool_ready_ms: Ms; startup_ms: Ms; process_wall_ms: Ms; runs: number[] }>;
  peak_rss_mb: {
    cold_start: { ours: number | null; ours_in_thread: number | null; peer: number | null };
    classify_100000: { ours: number | null; ours_knn: number | null; peer: number | null } | null;
    bench_process: number;
  };
  /** Tensors left in this thread: by the embedding steps (all sides), and per side by addExample (the peer's after knn.dispose()). */
  tensor_leaks_main_thread: { embed_and_batch_all_sides: number; add_example: Record<AddSide, number> };
  targets: Record<string, Target>;
  notes: string[];
  duration_s: number;
}

// ------------------------------------------------------------------------------------ embedding steps

type Side = 'ours' | 'ours_in_thread' | 'peer';
const SIDES: readonly Side[] = ['ours', 'ours_in_thread', 'peer'];
/** The single-image step also times ours with `flip: true`, in the same rotation. */
type EmbedSide = Side | 'ours_flip' | 'ours_in_thread_flip';
const EMBED_SIDES: readonly EmbedSide[] = ['ours', 'ours_in_thread', 'peer', 'ours_flip', 'ours_in_thread_flip'];
/** addExample: ours with the classifier default (flip on) and with `flip: false`. */
type OursAddSide = 'ours' | 'ours_in_thread' | 'ours_noflip' | 'ours_in_thread_noflip';
type AddSide = OursAddSide | 'peer';
const ADD_SIDES: readonly AddSide[] = ['ours', 'ours_in_thread', 'peer', 'ours_noflip', 'ours_in_thread_noflip'];

interface Pipelines {
  ours: Embedder;
  ours_in_thread: Embedder;
  peer: PeerPipeline;
}

/** ABC, BCA, CAB...: every side runs first, second and third equally often, against drift and caching. */
function rotated<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function embedOne(p: Pipelines, side: EmbedSide, bytes: Uint8Array): Promise<Float32Array> {
  switch (side) {
    case 'peer':
      return p.peer.embed(bytes);
    case 'ours_flip':
      return p.ours.embed(bytes, { flip: true });
    case 'ours_in_thread_flip':
      return p.ours_in_thread.embed(bytes, { flip: true });
    default:
      return p[side].embed(bytes);
  }
}

function embedMany(p: Pipelines, side: Side, images: readonly Uint8Array[]): Promise<Float32Array[]> {
  return side === 'peer' ? p.peer.embedBatch(images) : p[side].embedBatch(images);
}

interface EmbedSamples {
  /** times[side][image] = that image's timings over the rounds. */
  times: Record<EmbedSide, number[][]>;
  vectors: Record<EmbedSide, Float32Array[]>;
}

/** Step 1: single-image latency, sides interleaved image by image, after a warm-up of each side. */
async function measureEmbed(p: Pipelines, images: readonly BenchImage[], plan: Plan): Promise<EmbedSamples> {
  // Warm-up over the images (new input sizes make new shapes; a flip is a batch of 2, another shape); a
  // pool splits these calls over its threads.
  for (let i = 0; i < plan.warmups; i++) {
    for (const side of EMBED_SIDES) await embedOne(p, side, (images[i % images.length] as BenchImage).bytes);
  }
  const times = Object.fromEntries(EMBED_SIDES.map((s) => [s, images.map((): number[] => [])])) as Record<EmbedSide, number[][]>;
  const vectors = Object.fromEntries(EMBED_SIDES.map((s) => [s, [] as Float32Array[]])) as Record<EmbedSide, Float32Array[]>;
  for (let round = 0; round < plan.rounds; round++) {
    for (const [i, image] of images.entries()) {
      for (const side of rotated(EMBED_SIDES, round + i)) {
        const t0 = now();
        const vector = await embedOne(p, side, image.bytes);
        (times[side][i] as number[]).push(now() - t0);
        vectors[side][i] = vector;
      }
    }
  }
  return { times, vectors };
}

/** Step 2: one embedBatch call over the first `plan.batch` images, ms per image, sides rotated per rep. */
async function measureBatch(p: Pipelines, images: readonly BenchImage[], plan: Plan): Promise<Record<Side, number[]>> {
  const batch = images.slice(0, plan.batch).map((image) => image.bytes);
  // Warm-up: batch shapes are new, and each pool thread sees only its share of the batch.
  for (let i = 0; i < plan.batchWarmups; i++) for (const side of SIDES) await embedMany(p, side, batch);
  const perImage = Object.fromEntries(SIDES.map((s) => [s, [] as number[]])) as Record<Side, number[]>;
  for (let rep = 0; rep < plan.batchReps; rep++) {
    for (const side of rotated(SIDES, rep)) {
      const t0 = now();
      await embedMany(p, side, batch);
      perImage[side].push((now() - t0) / batch.length);
    }
  }
  return perImage;
}

/**
 * Step 3: addExample as a user calls it (JPEG in, embedded and stored), and the peer's docs equivalent.
 * Ours with the createClassifier default (flip averaging: image + mirror image in one batch) and with
 * `flip: false`, each in both configs; all five sides rotate image by image.
 */
async function measureAddExample(
  p: Pipelines,
  model: ModelName,
  images: readonly BenchImage[],
): Promise<{ times: Record<AddSide, number[]>; leaks: Record<AddSide, number>; flip: Record<OursAddSide, boolean> }> {
  // On the embedders loaded (and warmed up) above: openOursClassifier checks the library's cache hands them out.
  const classifiers = {
    ours: await openOursClassifier(model, 'default', p.ours),
    ours_in_thread: await openOursClassifier(model, 'thread', p.ours_in_thread),
    ours_noflip: await openOursClassifier(model, 'default', p.ours, false),
    ours_in_thread_noflip: await openOursClassifier(model, 'thread', p.ours_in_thread, false),
  };
  const flip = Object.fromEntries(Object.entries(classifiers).map(([side, c]) => [side, c.info().flip])) as Record<OursAddSide, boolean>;
  if (!flip.ours || !flip.ours_in_thread || flip.ours_noflip || flip.ours_in_thread_noflip) {
    throw new Error(`Unexpected flip settings of our classifiers: ${JSON.stringify(flip)} (default should be on, flip: false off).`);
  }
  const knn = new KNNClassifier();
  const add: Record<AddSide, (image: BenchImage) => Promise<unknown>> = {
    ours: (image) => classifiers.ours.addExample(image.label, image.bytes),
    ours_in_thread: (image) => classifiers.ours_in_thread.addExample(image.label, image.bytes),
    ours_noflip: (image) => classifiers.ours_noflip.addExample(image.label, image.bytes),
    ours_in_thread_noflip: (image) => classifiers.ours_in_thread_noflip.addExample(image.label, image.bytes),
    peer: async (image) => {
      const embedding = await p.peer.embedTensor(image.bytes);
      knn.addExample(embedding, image.label);
      embedding.dispose();
    },
  };
  const times = Object.fromEntries(ADD_SIDES.map((s) => [s, [] as number[]])) as Record<AddSide, number[]>;
  // Tensors each side leaves behind in this thread; the peer's are counted after knn.dispose().
  const leaks = Object.fromEntries(ADD_SIDES.map((s) => [s, 0])) as Record<AddSide, number>;
  let peerHeld = 0;
  for (const [i, image] of images.entries()) {
    for (const side of rotated(ADD_SIDES, i)) {
      const before = tf.memory().numTensors;
      const t0 = now();
      await add[side](image);
      times[side].push(now() - t0);
      if (side === 'peer') peerHeld += tf.memory().numTensors - before;
      else leaks[side] += tf.memory().numTensors - before;
    }
  }
  const beforeDispose = tf.memory().numTensors;
  knn.dispose();
  leaks.peer = peerHeld - (beforeDispose - tf.memory().numTensors);
  return { times, leaks, flip };
}

/** Head-only add (no embedding, no store): real embeddings cycled into a fresh prototype head. */
function measureHeadAdd(model: ModelName, embeddings: readonly Float32Array[], reps: number): number[] {
  const head = new FewShotHead({ dim: MODELS[model].dim, temperature: MODELS[model].temperature });
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const embedding = embeddings[i % embeddings.length] as Float32Array;
    const t0 = now();
    head.add(`e${i}`, `class-${i % 20}`, embedding);
    times.push(now() - t0);
  }
  return times;
}

/** The peer's KNNClassifier.addExample alone, on embedding tensors made beforehand. */
function measureKnnAdd(model: ModelName, embeddings: readonly Float32Array[], reps: number): number[] {
  const dim = MODELS[model].dim;
  const tensors = embeddings.map((e) => tf.tensor2d(e, [1, dim]));
  const knn = new KNNClassifier();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    knn.addExample(tensors[i % tensors.length] as tf.Tensor2D, `class-${i % 20}`);
    times.push(now() - t0);
  }
  knn.dispose();
  for (const t of tensors) t.dispose();
  return times;
}

// --------------------------------------------------------------------------- child-process steps

const COLD_SIDES: Record<ColdStartSide, Side> = { ours: 'ours', 'ours-thread': 'ours_in_thread', peer: 'peer' };

interface ColdRun {
  result: ColdStartResult;
  /** Spawn to exit as the parent saw it (adds Node + tsx start-up and shutdown). */
  wallMs: number;
}

/** Step 5: cold start, `plan.coldRuns` fresh processes per side, sides alternating. */
async function measureColdStart(model: ModelName, image: BenchImage, plan: Plan, notes: string[]): Promise<Record<Side, ColdRun[]>> {
  const runs = Object.fromEntries(SIDES.map((s) => [s, [] as ColdRun[]])) as Record<Side, ColdRun[]>;
  const sides = Object.keys(COLD_SIDES) as ColdStartSide[];
  for (let run = 0; run < plan.coldRuns; run++) {
    for (const side of rotated(sides, run)) {
      log(`cold start ${run + 1}/${plan.coldRuns}: ${side}`);
      const outcome = await runChild<ColdStartResult>('cold-start.ts', [side, model, image.path], { timeoutMs: 120_000 });
      if (!outcome.ok) {
        notes.push(`cold start failed: ${outcome.error}`);
        continue;
      }
      if (outcome.value.backend !== 'wasm') throw new Error(`cold start ${side} ran on ${outcome.value.backend}, not wasm.`);
      runs[COLD_SIDES[side]].push({ result: outcome.value, wallMs: outcome.wallMs });
    }
  }
  return runs;
}

const WORKER_KEYS: Record<WorkerSide, 'ours' | 'ours_knn' | 'peer'> = { 'ours-prototype': 'ours', 'ours-knn': 'ours_knn', peer: 'peer' };

/** Step 4: classify latency per N, one child process per (N, side). */
async function measureClassify(
  model: ModelName,
  basesFile: string,
  sizes: readonly number[],
  plan: Plan,
): Promise<{ rows: Record<string, ClassifyRow>; detail: BenchResult['classify_detail'] }> {
  const rows: Record<string, ClassifyRow> = {};
  const detail: BenchResult['classify_detail'] = {};
  for (const n of sizes) {
    const notes: string[] = [];
    const found: Partial<Record<'ours' | 'ours_knn' | 'peer', WorkerResult>> = {};
    for (const side of Object.keys(WORKER_KEYS) as WorkerSide[]) {
      log(`classify N=${n}: ${side}`);
      const args: WorkerArgs = { side, n, model, basesFile, budgetMs: plan.classifyBudgetMs, peerAddBudgetMs: plan.peerAddBudgetMs };
      const outcome = await runChild<WorkerResult>('classify-worker.ts', [JSON.stringify(args)], {
        timeoutMs: plan.classifyTimeoutMs,
        nodeArgs: ['--expose-gc'],
      });
      if (!outcome.ok) {
        notes.push(`${side}: ${outcome.timedOut ? 'gave up (over ~3 min)' : 'failed'}: ${outcome.error}`);
        continue;
      }
      if (side === 'peer' && outcome.value.backend !== 'wasm') throw new Error(`peer classify ran on ${outcome.value.backend}, not wasm.`);
      if (outcome.value.note) notes.push(`${side}: ${outcome.value.note}`);
      found[WORKER_KEYS[side]] = outcome.value;
    }
    detail[n] = found;
    rows[n] = {
      ours: found.ours?.median_ms ?? null,
      ours_knn: found.ours_knn?.median_ms ?? null,
      peer: found.peer?.median_ms ?? null,
      peer_first: found.peer?.first_ms ?? null,
      ...(notes.length > 0 ? { note: notes.join(' ') } : {}),
    };
  }
  return { rows, detail };
}

// ------------------------------------------------------------------------------------------ helpers

const all = (perImage: readonly number[][]): number[] => perImage.flat();

function maxAbsDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let max = 0;
  a.forEach((x, i) => x.forEach((v, d) => (max = Math.max(max, Math.abs(v - ((b[i] as Float32Array)[d] as number))))));
  return max;
}

function target(value: number | null, text: string, pass: (v: number) => boolean): Target {
  return { value, target: text, pass: value === null ? null : pass(value) };
}

function medianOf<T>(items: readonly T[], pick: (item: T) => number): Ms {
  return round(median(items.map(pick)));
}

function coldDetail(runs: readonly ColdRun[]): BenchResult['load_detail'][string] {
  const phases = ['import_ms', 'backend_ms', 'load_ms', 'first_embed_ms'] as const;
  return {
    phases_median: Object.fromEntries(phases.map((k) => [k, medianOf(runs, (r) => r.result.phases[k])])),
    pool_ready_ms: runs.some((r) => r.result.pool_ready_ms === null) ? null : medianOf(runs, (r) => r.result.pool_ready_ms as number),
    startup_ms: medianOf(runs, (r) => r.result.startup_ms),
    process_wall_ms: medianOf(runs, (r) => r.wallMs),
    runs: runs.map((r) => round(r.result.ms) as number),
  };
}

function peakOf(runs: readonly ColdRun[]): number | null {
  return runs.length > 0 ? Math.max(...runs.map((r) => r.result.peak_rss_mb)) : null;
}

function machine(loadStart: number[]): BenchResult['machine'] {
  const twoDecimals = (values: number[]): number[] => values.map((v) => Math.round(v * 100) / 100);
  return {
    cpus: availableParallelism(),
    cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    total_mem_gb: Math.round(totalmem() / 2 ** 30),
    loadavg_start: twoDecimals(loadStart),
    loadavg_end: twoDecimals(loadavg()),
  };
}

// --------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = now();
  const loadStart = loadavg();
  const options = parseOptions(process.argv.slice(2));
  const plan = planFor(options.quick);
  const { model } = options;
  const modelDir = ensureModelDir();
  const notes: string[] = [];
  log(`model ${model} from ${modelDir}; ${options.quick ? 'quick' : 'full'} run; load avg ${loadStart.map((v) => v.toFixed(2)).join(' ')}`);

  const images = await loadCaltechImages(plan.images);
  log('loading both pipelines');
  const pipelines: Pipelines = {
    ours: await loadOurs(model, 'default'),
    ours_in_thread: await loadOurs(model, 'thread'),
    peer: await loadPeer(model),
  };
  if (tf.getBackend() !== 'wasm') throw new Error(`The peer runs on ${tf.getBackend()}, not wasm.`);
  const tensorsAtStart = tf.memory().numTensors;

  log(`embedding: ${images.length} images x ${plan.rounds} rounds, interleaved (ours also with flip)`);
  const embed = await measureEmbed(pipelines, images, plan);
  log(`batched embedding: ${plan.batch} images x ${plan.batchReps}`);
  const batch = await measureBatch(pipelines, images, plan);
  log('addExample (ours with flip, the default, and with flip: false)');
  const embeddingLeaks = tf.memory().numTensors - tensorsAtStart;
  const { times: adds, leaks: addLeaks, flip: addFlip } = await measureAddExample(pipelines, model, images);
  const realEmbeddings = embed.vectors.ours_in_thread;
  const headAdds = measureHeadAdd(model, realEmbeddings, plan.headAddReps);
  const knnAdds = measureKnnAdd(model, realEmbeddings, Math.min(plan.headAddReps, 200));
  const oursWorkers = workerCount(pipelines.ours);
  // Free the model threads and weights before the child-process steps, which want the CPUs to themselves.
  for (const side of SIDES) pipelines[side].dispose();

  const tmp = await mkdtemp(join(tmpdir(), 'fewshot-bench-'));
  try {
    const basesFile = join(tmp, 'bases.json');
    await writeFile(basesFile, JSON.stringify({ bases: realEmbeddings.map((e) => Array.from(e)) }));
    const cold = await measureColdStart(model, images[0] as BenchImage, plan, notes);
    const classify = await measureClassify(model, basesFile, options.sizes, plan);
    for (const [n, row] of Object.entries(classify.rows)) if (row.note) notes.push(`classify N=${n}: ${row.note}`);

    // Single-image time over exactly the images of the batch, so the speedup compares like with like.
    const singleOverBatch = (side: Side): Ms => {
      const perImage = embed.times[side].slice(0, plan.batch).map((t) => median(t) as number);
      return perImage.reduce((a, b) => a + b, 0) / perImage.length;
    };
    const batchMs = (side: Side): Ms => round(median(batch[side]));
    const embedMs = (side: EmbedSide): Ms => round(median(all(embed.times[side])));
    const addMs = (side: AddSide): Ms => round(median(adds[side]));
    const cosines = embed.vectors.peer.map((v, i) => cosine(embed.vectors.ours_in_thread[i] as Float32Array, v));
    const flipCosines = embed.vectors.ours_in_thread_flip.map((v, i) => cosine(embed.vectors.ours_in_thread[i] as Float32Array, v));
    const at10k = classify.rows['10000'];
    const row100k = classify.detail['100000'];

    const result: BenchResult = {
      model,
      backend: 'wasm',
      quick: options.quick,
      machine: machine(loadStart),
      ours_workers: oursWorkers,
      peer_engine: pipelines.peer.engine,
      images: { dataset: 'caltech101', count: images.length, rounds: plan.rounds },
      embed_ms: { ours: embedMs('ours'), ours_in_thread: embedMs('ours_in_thread'), peer: embedMs('peer') },
      embed_ratio: ratio(embedMs('ours'), embedMs('peer')),
      embed_ratio_in_thread: ratio(embedMs('ours_in_thread'), embedMs('peer')),
      embed_flip_ms: { ours: embedMs('ours_flip'), ours_in_thread: embedMs('ours_in_thread_flip') },
      embed_flip_ratio_vs_plain: {
        ours: ratio(embedMs('ours_flip'), embedMs('ours')),
        ours_in_thread: ratio(embedMs('ours_in_thread_flip'), embedMs('ours_in_thread')),
      },
      embed_flip_ratio_vs_peer: {
        ours: ratio(embedMs('ours_flip'), embedMs('peer')),
        ours_in_thread: ratio(embedMs('ours_in_thread_flip'), embedMs('peer')),
      },
      embedding_agreement: {
        cosine_ours_vs_peer_min: round(Math.min(...cosines)),
        cosine_ours_vs_peer_median: round(median(cosines)),
        max_abs_diff_pool_vs_thread: round(maxAbsDiff(embed.vectors.ours, embed.vectors.ours_in_thread)),
        max_abs_diff_pool_vs_thread_flip: round(maxAbsDiff(embed.vectors.ours_flip, embed.vectors.ours_in_thread_flip)),
        cosine_flip_vs_plain_median: round(median(flipCosines)),
      },
      batch_size: Math.min(plan.batch, images.length),
      embed_batch_ms_per_image: { ours: batchMs('ours'), ours_in_thread: batchMs('ours_in_thread'), peer: batchMs('peer') },
      batch_speedup: ratio(singleOverBatch('ours'), batchMs('ours')),
      batch_speedup_detail: {
        ours: ratio(singleOverBatch('ours'), batchMs('ours')),
        ours_in_thread: ratio(singleOverBatch('ours_in_thread'), batchMs('ours_in_thread')),
        peer: ratio(singleOverBatch('peer'), batchMs('peer')),
      },
      add_example_ms: {
        ours: addMs('ours'),
        ours_in_thread: addMs('ours_in_thread'),
        ours_noflip: addMs('ours_noflip'),
        ours_in_thread_noflip: addMs('ours_in_thread_noflip'),
        peer: addMs('peer'),
        head_only: round(median(headAdds)),
        peer_knn_only: round(median(knnAdds)),
      },
      add_example_ratio_vs_peer: {
        ours: ratio(addMs('ours'), addMs('peer')),
        ours_in_thread: ratio(addMs('ours_in_thread'), addMs('peer')),
        ours_noflip: ratio(addMs('ours_noflip'), addMs('peer')),
        ours_in_thread_noflip: ratio(addMs('ours_in_thread_noflip'), addMs('peer')),
      },
      add_example_flip: addFlip,
      classify_ms: classify.rows,
      classify_speedup_10000: ratio(at10k?.peer, at10k?.ours),
      classify_detail: classify.detail,
      load_ms: {
        ours: medianOf(cold.ours, (r) => r.result.ms),
        ours_in_thread: medianOf(cold.ours_in_thread, (r) => r.result.ms),
        peer: medianOf(cold.peer, (r) => r.result.ms),
      },
      load_detail: Object.fromEntries(SIDES.map((side) => [side, coldDetail(cold[side])])),
      peak_rss_mb: {
        cold_start: { ours: peakOf(cold.ours), ours_in_thread: peakOf(cold.ours_in_thread), peer: peakOf(cold.peer) },
        classify_100000: row100k
          ? { ours: row100k.ours?.peak_rss_mb ?? null, ours_knn: row100k.ours_knn?.peak_rss_mb ?? null, peer: row100k.peer?.peak_rss_mb ?? null }
          : null,
        bench_process: peakRssMb(),
      },
      tensor_leaks_main_thread: { embed_and_batch_all_sides: embeddingLeaks, add_example: addLeaks },
      targets: {},
      notes,
      duration_s: 0,
    };
    result.targets = {
      embed_ratio_le_1: target(result.embed_ratio, 'ours/peer <= 1.0', (v) => v <= 1),
      batch_speedup_ge_1_5: target(result.batch_speedup, 'single/batch >= 1.5', (v) => v >= 1.5),
      classify_10000_prototype_lt_2ms: target(at10k?.ours ?? null, '< 2 ms', (v) => v < 2),
      classify_10000_speedup_ge_10: target(result.classify_speedup_10000, 'peer/ours >= 10', (v) => v >= 10),
    };
    if (embeddingLeaks !== 0) notes.push(`${embeddingLeaks} tensors leaked in the main thread during the embedding steps.`);
    for (const side of ADD_SIDES) if (addLeaks[side] !== 0) notes.push(`${side}: ${addLeaks[side]} tensors left in the main thread by ${images.length} addExample calls.`);
    result.duration_s = Math.round((now() - started) / 1000);
    const text = options.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatReport(result)}\n`;
    await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  // Exit explicitly: a library worker thread or timer left alive must not hang the bench.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
