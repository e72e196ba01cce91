/**
 * npx tsx bench/tflite-kernels.ts [--runs 30]
 *
 * Where mobilenet_v3_small_075's time goes on tfjs-wasm (this thread, SIMD, one thread): its graph
 * (src/tflite/) on one 224x224 image, profiled with `tf.profile`, by kernel and, for convolutions, by filter
 * size with the multiply-adds per second each achieves. Kernel times are tfjs's own (wall time around each
 * synchronous WASM call), so their sum is below the graph's time by the per-op overhead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { modelFolder } from '../node/model-files.js';
import { MODELS } from '../src/models.js';
import { compileTflite } from '../src/tflite/graph.js';
import { parseTflite } from '../src/tflite/schema.js';
import { now } from './stats.js';

const runs = Number(parseArgs({ options: { runs: { type: 'string', default: '30' } } }).values.runs);
await tf.setBackend('wasm');
if (tf.getBackend() !== 'wasm') throw new Error(`tfjs runs ${tf.getBackend()}, not wasm`);
const spec = MODELS.mobilenet_v3_small_075;
const graph = compileTflite(parseTflite(readFileSync(join(modelFolder(spec.name), spec.file))), { inputScale: { scale: 1 / 255, offset: 0 } });
const image = tf.randomUniform([1, 224, 224, 3], 0, 255);
for (let i = 0; i < 5; i++) tf.dispose(graph.run(image));

const started = now();
for (let i = 0; i < runs; i++) (graph.run(image)[0] as tf.Tensor).dataSync();
const graphMs = (now() - started) / runs;
const profile = await tf.profile(() => {
  for (let i = 0; i < runs; i++) tf.dispose(graph.run(image));
});

/** Multiply-adds of a convolution kernel from its shapes: output elements x filter taps (x input channels). */
function macs(name: string, inputs: number[][], outputs: number[][]): number {
  const [, h, w, c] = outputs[0] as number[];
  const [kh, kw, inC] = inputs[1] as number[];
  return name === 'FusedDepthwiseConv2D' ? (h as number) * (w as number) * (c as number) * (kh as number) * (kw as number) : (h as number) * (w as number) * (c as number) * (kh as number) * (kw as number) * (inC as number);
}

const rows = new Map<string, { calls: number; ms: number; macs: number }>();
for (const k of profile.kernels) {
  if (k.name.endsWith('__op')) continue; // the op wrappers around the kernels below
  const conv = k.name === 'FusedConv2D' || k.name === 'FusedDepthwiseConv2D';
  const key = conv ? `${k.name} ${(k.inputShapes[1] as number[])[0]}x${(k.inputShapes[1] as number[])[1]}` : k.name;
  const row = rows.get(key) ?? { calls: 0, ms: 0, macs: 0 };
  row.calls++;
  row.ms += k.kernelTimeMs as number;
  if (conv) row.macs += macs(k.name, k.inputShapes as number[][], k.outputShapes as number[][]);
  rows.set(key, row);
}
const kernelMs = [...rows.values()].reduce((a, r) => a + r.ms, 0) / runs;
console.log(`mobilenet_v3_small_075 on tfjs-wasm: ${graphMs.toFixed(2)} ms per image (graph), ${kernelMs.toFixed(2)} ms in kernels, ${runs} runs`);
console.log('kernel (filter)              calls  ms/image  share  GMAC/s');
for (const [key, r] of [...rows].sort((a, b) => b[1].ms - a[1].ms)) {
  const rate = r.macs ? (r.macs / (r.ms / 1000) / 1e9).toFixed(2) : '';
  console.log(`${key.padEnd(28)} ${String(r.calls / runs).padStart(5)} ${(r.ms / runs).toFixed(2).padStart(9)} ${((100 * r.ms) / runs / kernelMs).toFixed(0).padStart(5)}% ${rate.padStart(7)}`);
}
