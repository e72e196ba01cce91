/**
 * npx tsx bench/models.ts [--json] [--quick] [--out FILE]
 *
 * Our three models side by side in ONE run, and mobilenet_v3_small_075 against @litertjs/core on the same
 * file: per-image embedding time in Node on wasm, flip off, every side timed on the same images in rotating
 * order (after an untimed warm-up of each side), median of all timings.
 *
 *  - `<model>`: JPEG bytes -> Float32Array, `loadNodeEmbedder({ model, workers: 0 })` (tfjs-wasm, this thread)
 *  - `<model>_pool`: the same with the library default (a pool of worker threads)
 *  - `v3_litert`: the bench's v3 peer (bench/peer-litert.ts): decode + resize here, LiteRT in its thread
 *  - `v3_224` / `v3_litert_224`: the network alone, from the same 224x224 RGB bytes (ours: raw pixels,
 *    no resize; LiteRT: scaled to [0, 1] with a plain loop, then `run`); `litert_run_ms` is LiteRT's
 *    `run()` timed inside its thread (no thread hop)
 *
 * The built package, like `npm run bench` (run `npm run build` first). Progress on stderr.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { decodeImage, loadNodeEmbedder, type Embedder } from '../dist/node/index.js';
import { modelFolder } from '../node/model-files.js';
import { INPUT_SIZE, MODELS, type ModelName } from '../src/models.js';
import { startLitert } from '../test/reference/litert.js';
import { ensureModelDir, loadCaltechImages } from './env.js';
import { emitReport } from './output.js';
import { loadPeer } from './peer.js';
import { table } from './report.js';
import { log, median, now, ratio, round } from './stats.js';

const MODEL_NAMES = ['mobilenet_v1_025', 'mobilenet_v2_100', 'mobilenet_v3_small_075'] as const satisfies readonly ModelName[];
const SHORT: Record<(typeof MODEL_NAMES)[number], string> = { mobilenet_v1_025: 'v1_025', mobilenet_v2_100: 'v2_100', mobilenet_v3_small_075: 'v3' };
const SHAPE = [1, INPUT_SIZE, INPUT_SIZE, 3] as const;

/** One image's two forms: the JPEG, and the 224x224 RGB bytes our pipeline makes of it. */
interface Image {
  jpeg: Uint8Array;
  rgb224: Uint8Array;
}
type Side = (image: Image) => Promise<unknown>;

/** ABC, BCA, CAB...: every side runs first, second... equally often, against drift and caching. */
const rotated = <T>(items: readonly T[], by: number): T[] => [...items.slice(by % items.length), ...items.slice(0, by % items.length)];

/** Our pipeline's resize (alignCorners=true), rounded to bytes. */
async function rgb224(jpeg: Uint8Array): Promise<Uint8Array> {
  const { data, width, height } = decodeImage(jpeg);
  const pixels = tf.tidy(() =>
    tf.cast(tf.clipByValue(tf.round(tf.image.resizeBilinear(tf.tensor3d(data, [height, width, 3], 'float32'), [INPUT_SIZE, INPUT_SIZE], true)), 0, 255), 'int32'),
  );
  const bytes = Uint8Array.from((await pixels.data()) as Int32Array);
  pixels.dispose();
  return bytes;
}

function unit(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = (bytes[i] as number) / 255;
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false }, out: { type: 'string' } } });
  const plan = values.quick ? { images: 8, rounds: 2, warmups: 10 } : { images: 20, rounds: 5, warmups: 40 };
  ensureModelDir();
  const loadStart = (await import('node:os')).loadavg();
  const started = now();

  log('loading: three models in-thread and as pools, the LiteRT peer and a bare LiteRT reference');
  const inThread: Embedder[] = [];
  const pools: Embedder[] = [];
  for (const model of MODEL_NAMES) {
    inThread.push(await loadNodeEmbedder({ model, workers: 0 }));
    pools.push(await loadNodeEmbedder({ model }));
  }
  // Pools answer from this thread while their threads start: wait until they have.
  for (const pool of pools) await (pool as { ready?: Promise<unknown> }).ready;
  if (tf.getBackend() !== 'wasm' || inThread.some((e) => e.backend !== 'wasm') || pools.some((e) => e.backend !== 'wasm')) {
    throw new Error('Every embedder must run on wasm.');
  }
  const peer = await loadPeer('mobilenet_v3_small_075');
  const litert = await startLitert(join(modelFolder('mobilenet_v3_small_075'), MODELS.mobilenet_v3_small_075.file));

  const images: Image[] = [];
  for (const image of await loadCaltechImages(plan.images)) images.push({ jpeg: image.bytes, rgb224: await rgb224(image.bytes) });
  const v3 = inThread[2] as Embedder;
  const runMs: number[] = [];
  let measuring = false;
  const sides: Record<string, Side> = {};
  MODEL_NAMES.forEach((model, i) => {
    sides[SHORT[model]] = (image) => (inThread[i] as Embedder).embed(image.jpeg);
    sides[`${SHORT[model]}_pool`] = (image) => (pools[i] as Embedder).embed(image.jpeg);
  });
  sides.v3_litert = (image) => peer.embed(image.jpeg);
  sides.v3_224 = (image) => v3.embed({ data: image.rgb224, width: INPUT_SIZE, height: INPUT_SIZE, channels: 3 });
  sides.v3_litert_224 = async (image) => {
    const result = await litert.run([unit(image.rgb224)], SHAPE);
    if (measuring) runMs.push(...result.runMs);
  };
  const names = Object.keys(sides);

  log(`warm-up: ${plan.warmups} embeddings per side`);
  for (let i = 0; i < plan.warmups; i++) for (const name of names) await sides[name]!(images[i % images.length] as Image);
  log(`timing: ${images.length} Caltech images x ${plan.rounds} rounds x ${names.length} sides, rotating`);
  measuring = true;
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]]));
  for (let round = 0; round < plan.rounds; round++) {
    for (const [i, image] of images.entries()) {
      for (const name of rotated(names, round + i)) {
        const t0 = now();
        await sides[name]!(image);
        times[name]!.push(now() - t0);
      }
    }
  }
  for (const e of [...inThread, ...pools]) e.dispose();
  peer.dispose();
  await litert.close();

  const ms = Object.fromEntries(names.map((n) => [n, round(median(times[n]!))]));
  const result = {
    backend: 'wasm',
    quick: values.quick,
    machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version, loadavg_start: loadStart.map((v) => round(v)), loadavg_end: (await import('node:os')).loadavg().map((v) => round(v)) },
    images: { dataset: 'caltech101', count: images.length, rounds: plan.rounds, warmups: plan.warmups },
    litert: litert.engine,
    embed_ms: ms,
    litert_run_ms: round(median(runMs)),
    ratios: {
      v3_vs_v1_in_thread: ratio(ms.v3, ms.v1_025),
      v3_vs_v1_pool: ratio(ms.v3_pool, ms.v1_025_pool),
      v3_vs_v2_in_thread: ratio(ms.v3, ms.v2_100),
      v3_ours_vs_litert_jpeg: ratio(ms.v3, ms.v3_litert),
      v3_ours_vs_litert_224: ratio(ms.v3_224, ms.v3_litert_224),
    },
    duration_s: Math.round((now() - started) / 1000),
  };
  const rows = names.map((n) => [n, ms[n]]);
  rows.push(['litert run() inside its thread', result.litert_run_ms]);
  const text = () =>
    `Embedding per image on wasm, flip off (${result.images.count} Caltech images x ${plan.rounds}, medians, ms; ${result.litert}; ` +
    `load avg ${result.machine.loadavg_start.join('/')} -> ${result.machine.loadavg_end.join('/')})\n\n` +
    `${table(['side', 'ms'], rows)}\n\n${table(['ratio', 'value'], Object.entries(result.ratios))}`;
  await emitReport(result, text, { json: values.json, out: values.out });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench/models.ts failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
