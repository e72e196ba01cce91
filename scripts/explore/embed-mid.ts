// Exploration: pooled intermediate activations of v1 (flip-averaged) for every development image.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { scanImageClasses } from '../../node/dataset.js';
import { EmbeddingCache } from '../../node/embedding-cache.js';
import { useWasmBackend } from '../../node/backend.js';
import { fileModelSource, modelFolder } from '../../node/model-files.js';
import { decodeImage } from '../../src/pixels.js';
import { datasetsDir, defaultCacheDir, DEV_DOMAINS } from '../dev-data.js';
const P = 'module_apply_default/MobilenetV1/MobilenetV1/';
const layers = { c5: [`${P}Conv2d_5_pointwise/Relu6`, 64], c11: [`${P}Conv2d_11_pointwise/Relu6`, 128], final: ['module_apply_default/MobilenetV1/Logits/global_pool', 256] } as const;
console.error('backend', await useWasmBackend());
const model = await loadGraphModel(fileModelSource(modelFolder('mobilenet_v1_025', join(datasetsDir(), '..', 'models'))));
const files = Object.values(DEV_DOMAINS).flatMap((dir) => scanImageClasses(join(datasetsDir(), dir)).slice(0, 200).flatMap((c) => c.items));
const caches: Record<string, EmbeddingCache> = Object.fromEntries(await Promise.all(Object.entries(layers).map(async ([k, [, dim]]) => [k, await EmbeddingCache.open(defaultCacheDir(), `mobilenet_v1_025@1+mid-${k}`, dim)])));
const t0 = performance.now();
for (let i = 0; i < files.length; i += 8) {
  const chunk = files.slice(i, i + 8);
  if (await caches.c5!.get(chunk.at(-1)!)) continue;
  const images = await Promise.all(chunk.map(async (p) => decodeImage(await readFile(p))));
  const outs = tf.tidy(() => {
    const batch = tf.stack(images.map((im) => tf.image.resizeBilinear(tf.tensor3d(im.data, [im.height, im.width, 3], 'float32'), [224, 224], true))) as tf.Tensor4D;
    const both = tf.div(tf.concat([batch, tf.reverse(batch, 2)]), 255);
    const names = Object.values(layers).map(([n]) => n);
    const res = model.execute(both, names) as tf.Tensor[];
    const n = chunk.length;
    return res.map((r) => { const pooled = (r.rank === 4 ? tf.mean(r, [1, 2]) : r) as tf.Tensor2D; const flat = tf.reshape(pooled, [2 * n, -1]); return tf.div(tf.add(tf.slice(flat, [0, 0], [n, -1]), tf.slice(flat, [n, 0], [n, -1])), 2); });
  });
  const keys = Object.keys(layers);
  for (const [j, t] of outs.entries()) {
    const data = (await t.data()) as Float32Array; t.dispose();
    const dim = data.length / chunk.length;
    for (const [k, p] of chunk.entries()) await caches[keys[j]!]!.set(p, data.slice(k * dim, (k + 1) * dim));
  }
  if (i % 1024 === 0) { for (const c of Object.values(caches)) await c.save(); console.error(i, ((performance.now() - t0) / 1000).toFixed(0), 's'); }
}
for (const c of Object.values(caches)) await c.save();
process.exit(0);
