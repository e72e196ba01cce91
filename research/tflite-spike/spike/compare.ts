/**
 * tsx spike/compare.ts [--images 21] [--rounds 40] [--warmups 20]
 *
 * 1. Embeds real images from ../shared/datasets with MobileNetV3-Small 0.75 (.tflite) two ways:
 *    our tfjs-wasm runner (src/tflite/) and @litertjs/core (reference); reports cosine min/mean/max and the
 *    largest absolute difference, for the optimised and the plain (op-for-op) graph.
 * 2. Times one embedding per engine, interleaved round-robin in one process: v3 tfjs-wasm (optimised and
 *    plain), v3 litert, and the project's v1_025 and v2_100 through src/embedder.ts on tfjs-wasm. Every side
 *    starts from the same 224x224 RGB bytes and ends with a Float32Array (decode/resize excluded).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { useWasmBackend } from '../../../node/backend.js';
import { fileModelSource } from '../../../node/model-files.js';
import { loadEmbedder, type Embedder } from '../../../src/embedder.js';
import { decodeImage, type RgbImage } from '../../../src/pixels.js';
import { loadTfliteNetwork, type TfliteNetwork } from '../src/tflite/network.js';
import { loadLitert } from './litert-reference.js';

const { values: args } = parseArgs({
  options: { images: { type: 'string', default: '21' }, rounds: { type: 'string', default: '40' }, warmups: { type: 'string', default: '20' } },
});
const V3_FILE = new URL('../../../../shared/', import.meta.url).pathname + 'models/mobilenet_v3_small_075_embedder/mobilenet_v3_small.tflite';
const DATASETS = new URL('../../../../shared/', import.meta.url).pathname + 'datasets';
const SIZE = 224;

const log = (...m: unknown[]) => console.error(...m);

function pickImages(count: number): string[] {
  const sets = readdirSync(DATASETS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const perSet = Math.ceil(count / sets.length);
  const picked: string[] = [];
  for (const set of sets) {
    const root = join(DATASETS, set, 'images');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort();
    for (let k = 0; k < perSet; k++) picked.push(join(root, files[Math.floor(((k + 0.5) * files.length) / perSet)] as string));
  }
  return picked.slice(0, count);
}

/** As src/embedder.ts `resized`: float 0..255, bilinear with alignCorners=true. */
function resize(image: RgbImage): tf.Tensor3D {
  return tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(image.data, [image.height, image.width, 3], 'float32'), [SIZE, SIZE], true));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Bytes to [0, 1] floats with a plain loop (Float32Array.from with a map function is ~20x slower in V8). */
function toUnit(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = (bytes[i] as number) / 255;
  return out;
}

async function tfliteEmbed(net: TfliteNetwork, rgb: Uint8Array): Promise<Float32Array> {
  const out = tf.tidy(() => net.run(tf.expandDims(tf.tensor3d(rgb, [SIZE, SIZE, 3], 'float32')) as tf.Tensor4D));
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

async function main() {
  log(`backend: ${await useWasmBackend()} (tf.getBackend() = ${tf.getBackend()})`);
  const modelBytes = readFileSync(V3_FILE);

  let t0 = performance.now();
  const v3 = loadTfliteNetwork(modelBytes, [0, 1]);
  const v3LoadMs = performance.now() - t0;
  const v3plain = loadTfliteNetwork(modelBytes, [0, 1], { optimize: false });
  t0 = performance.now();
  const lite = await loadLitert(new Uint8Array(modelBytes));
  const liteLoadMs = performance.now() - t0;
  log(`v3 tfjs: ${v3.dim}-d, load+compile ${v3LoadMs.toFixed(0)} ms; litert: ${lite.build}, load ${liteLoadMs.toFixed(0)} ms`);

  // ------------------------------------------------------------------ agreement on real images
  const files = pickImages(Number(args.images));
  const inputs = files.map((f) => resize(decodeImage(readFileSync(f))));
  const rows: { file: string; cos: number; cosPlain: number; maxAbs: number; norm: number }[] = [];
  for (const [k, input] of inputs.entries()) {
    const unit = tf.tidy(() => tf.div(input, 255));
    const ref = await lite.run((await unit.data()) as Float32Array, [1, SIZE, SIZE, 3]);
    unit.dispose();
    const run = async (net: TfliteNetwork) => {
      const out = tf.tidy(() => net.run(tf.expandDims(input) as tf.Tensor4D));
      const d = (await out.data()) as Float32Array;
      out.dispose();
      return d;
    };
    const ours = await run(v3);
    const plain = await run(v3plain);
    rows.push({
      file: files[k]!.replace(`${DATASETS}/`, ''),
      cos: cosine(ours, ref),
      cosPlain: cosine(plain, ref),
      maxAbs: maxAbsDiff(ours, ref),
      norm: Math.sqrt(ref.reduce((s, v) => s + v * v, 0)),
    });
  }
  // Batch of 8 through our runner equals 8 single runs?
  const batchOut = tf.tidy(() => v3.run(tf.stack(inputs.slice(0, 8)) as tf.Tensor4D));
  const batchData = (await batchOut.data()) as Float32Array;
  batchOut.dispose();
  let batchCosMin = 1;
  for (let i = 0; i < 8; i++) {
    const single = tf.tidy(() => v3.run(tf.expandDims(inputs[i] as tf.Tensor3D) as tf.Tensor4D));
    batchCosMin = Math.min(batchCosMin, cosine(batchData.slice(i * v3.dim, (i + 1) * v3.dim), (await single.data()) as Float32Array));
    single.dispose();
  }

  const cos = rows.map((r) => r.cos);
  const cosPlain = rows.map((r) => r.cosPlain);
  console.log(`\n## Agreement, tfjs-wasm runner vs @litertjs/core, ${rows.length} images (${new Set(rows.map((r) => r.file.split('/')[0])).size} datasets)`);
  for (const r of rows) console.log(`  ${r.file.padEnd(62)} cos ${r.cos.toFixed(7)}  plain ${r.cosPlain.toFixed(7)}  max|d| ${r.maxAbs.toExponential(2)}  |ref| ${r.norm.toFixed(2)}`);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  console.log(`  optimised graph: cosine min ${Math.min(...cos).toFixed(7)}, mean ${mean(cos).toFixed(7)}; 1 - min = ${(1 - Math.min(...cos)).toExponential(2)}`);
  console.log(`  plain graph:     cosine min ${Math.min(...cosPlain).toFixed(7)}, mean ${mean(cosPlain).toFixed(7)}`);
  console.log(`  largest |difference| over all elements: ${Math.max(...rows.map((r) => r.maxAbs)).toExponential(2)}`);
  console.log(`  batch of 8 vs 8 single runs (ours): cosine min ${batchCosMin.toFixed(7)}`);

  // ------------------------------------------------------------------ timing
  const modelsDir = new URL('../../../models/', import.meta.url).pathname;
  const v1 = await loadEmbedder({ model: 'mobilenet_v1_025', source: fileModelSource(join(modelsDir, 'mobilenet_v1_025_224_graph')) });
  const v2 = await loadEmbedder({ model: 'mobilenet_v2_100', source: fileModelSource(join(modelsDir, 'mobilenet_v2_100_224_feature')) });
  // The same 224x224 RGB bytes for every side.
  const bytes: Uint8Array[] = [];
  for (const input of inputs) {
    const u8 = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(input), 0, 255), 'int32'));
    bytes.push(Uint8Array.from((await u8.data()) as Int32Array));
    u8.dispose();
  }
  // Pre-scaled float inputs, to time LiteRT's run() without the JS byte -> float loop.
  const unitInputs = new Map(bytes.map((b) => [b, toUnit(b)]));
  const projectEmbed = (e: Embedder) => (rgb: Uint8Array) => e.embed({ data: rgb, width: SIZE, height: SIZE, channels: 3 });
  const sides: { name: string; embed: (rgb: Uint8Array) => Promise<Float32Array>; times: number[] }[] = [
    { name: 'v3_small_075 tfjs-wasm (ours, optimised)', embed: (b) => tfliteEmbed(v3, b), times: [] },
    { name: 'v3_small_075 tfjs-wasm (ours, plain)', embed: (b) => tfliteEmbed(v3plain, b), times: [] },
    { name: 'v3_small_075 @litertjs/core', embed: (b) => lite.run(toUnit(b), [1, SIZE, SIZE, 3]), times: [] },
    { name: 'v3_small_075 @litertjs/core, run() only', embed: (b) => lite.run(unitInputs.get(b) as Float32Array, [1, SIZE, SIZE, 3]), times: [] },
    { name: 'v1_025 tfjs-wasm (project)', embed: projectEmbed(v1), times: [] },
    { name: 'v2_100 tfjs-wasm (project)', embed: projectEmbed(v2), times: [] },
  ];
  const warmups = Number(args.warmups);
  const rounds = Number(args.rounds);
  for (const side of sides) for (let i = 0; i < warmups; i++) await side.embed(bytes[i % bytes.length] as Uint8Array);
  for (let r = 0; r < rounds; r++) {
    for (const side of sides) {
      const rgb = bytes[r % bytes.length] as Uint8Array;
      const start = performance.now();
      await side.embed(rgb);
      side.times.push(performance.now() - start);
    }
  }
  // Batched, ms per image (the embedder's batch is 8).
  const batchPerImage = async (run: () => Promise<void>) => {
    for (let i = 0; i < 3; i++) await run();
    const ts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const s = performance.now();
      await run();
      ts.push((performance.now() - s) / 8);
    }
    return median(ts);
  };
  const eight = inputs.slice(0, 8);
  const v3Batch = await batchPerImage(async () => {
    const out = tf.tidy(() => v3.run(tf.stack(eight) as tf.Tensor4D));
    await out.data();
    out.dispose();
  });
  const rgb8 = bytes.slice(0, 8).map((data) => ({ data, width: SIZE, height: SIZE, channels: 3 as const }));
  const v1Batch = await batchPerImage(async () => void (await v1.embedBatch(rgb8)));
  const v2Batch = await batchPerImage(async () => void (await v2.embedBatch(rgb8)));

  console.log(`\n## Time per embedding (224x224 RGB bytes -> Float32Array), ${rounds} interleaved rounds after ${warmups} warm-ups, backend ${tf.getBackend()}`);
  for (const s of sides) {
    console.log(`  ${s.name.padEnd(42)} median ${median(s.times).toFixed(2).padStart(7)} ms   min ${Math.min(...s.times).toFixed(2).padStart(7)} ms   mean ${(s.times.reduce((a, b) => a + b, 0) / s.times.length).toFixed(2).padStart(7)} ms`);
  }
  console.log(`  batch of 8, ms per image: v3 ours ${v3Batch.toFixed(2)}, v1_025 ${v1Batch.toFixed(2)}, v2_100 ${v2Batch.toFixed(2)}`);
  console.log(`  load: v3 ours parse+compile ${v3LoadMs.toFixed(0)} ms; litert wasm+model ${liteLoadMs.toFixed(0)} ms`);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 10; i++) await tfliteEmbed(v3, bytes[i % bytes.length] as Uint8Array);
  console.log(`  tensors leaked by 10 v3 embeddings: ${tf.memory().numTensors - before}`);

  tf.dispose(inputs);
  v3.dispose();
  v3plain.dispose();
  lite.dispose();
  v1.dispose();
  v2.dispose();
}

await main();
