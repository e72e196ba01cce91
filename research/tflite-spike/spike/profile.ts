/** Where the time goes in one v3 embedding on tfjs-wasm: tf.profile kernel times summed per kernel. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { useWasmBackend } from '../../../node/backend.js';
import { loadTfliteNetwork } from '../src/tflite/network.js';

await useWasmBackend();
const optimize = !process.argv.includes('--plain');
const net = loadTfliteNetwork(readFileSync(new URL('../../../../shared/', import.meta.url).pathname + 'models/mobilenet_v3_small_075_embedder/mobilenet_v3_small.tflite'), [0, 1], { optimize });
const input = tf.randomUniform([1, 224, 224, 3], 0, 255) as tf.Tensor4D;
for (let i = 0; i < 30; i++) tf.tidy(() => net.run(input)).dispose();
const totals = new Map<string, { ms: number; n: number }>();
const reps = 20;
let wall = 0;
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  const info = await tf.profile(() => tf.tidy(() => net.run(input)));
  wall += performance.now() - t0;
  for (const k of info.kernels) {
    const e = totals.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += Number(k.kernelTimeMs) / reps;
    e.n += 1 / reps;
    totals.set(k.name, e);
  }
}
const sum = [...totals.values()].reduce((s, e) => s + e.ms, 0);
console.log(`${optimize ? 'optimised' : 'plain'} graph: ${sum.toFixed(2)} ms in kernels per embedding (profiled wall ${(wall / reps).toFixed(2)} ms)`);
for (const [name, e] of [...totals].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${name.padEnd(24)} ${e.n.toFixed(0).padStart(4)} calls  ${e.ms.toFixed(2).padStart(6)} ms`);
