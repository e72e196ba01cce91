import * as tf from '@tensorflow/tfjs-core';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../node/backend.js';
import { MODELS, modelFolder } from '../node/index.js';
import { decodeImage } from '../src/pixels.js';
import { compileTflite } from '../src/tflite/graph.js';
import { loadTfliteNetwork, type TfliteNetwork } from '../src/tflite/network.js';
import { parseTflite } from '../src/tflite/schema.js';
import { cosine } from './cosine.js';
import { datasetsDir } from './paths.js';

const V3 = MODELS.mobilenet_v3_small_075;
const modelBytes = () => readFileSync(join(modelFolder('mobilenet_v3_small_075'), V3.file));

/** The first two images of the first class folder of each dataset: photos, textures, signs, cells, strokes. */
const DATASETS = ['caltech101/images', 'dtd10_textures/images', 'gtsrb_traffic_signs/images', 'pbc_blood_cells/images', 'omniglot/images'];
function realImages(): { name: string; bytes: Buffer }[] {
  return DATASETS.flatMap((dataset) => {
    const root = join(datasetsDir, dataset);
    const first = readdirSync(root).sort()[0] as string;
    return readdirSync(join(root, first)).sort().slice(0, 2).map((f) => ({ name: `${dataset}/${first}/${f}`, bytes: readFileSync(join(root, first, f)) }));
  });
}

/** A real image as the network's input: [1, 224, 224, 3] of 0..255, resized as the embedder does. */
function asBatch(bytes: Buffer): tf.Tensor4D {
  const image = decodeImage(bytes);
  return tf.tidy(() => tf.expandDims(tf.image.resizeBilinear(tf.tensor3d(image.data, [image.height, image.width, 3], 'float32'), [224, 224], true), 0)) as tf.Tensor4D;
}

/** The graph rewrites of src/tflite/graph.ts (`optimize`) keep the embeddings of the graph run op by op. */
describe('mobilenet_v3_small_075 graph rewrites (optimize)', () => {
  let optimized: TfliteNetwork;
  let plain: TfliteNetwork;

  beforeAll(async () => {
    await useWasmBackend();
    optimized = loadTfliteNetwork(modelBytes(), V3.inputRange);
    plain = loadTfliteNetwork(modelBytes(), V3.inputRange, { optimize: false });
  });
  afterAll(() => {
    optimized?.dispose();
    plain?.dispose();
  });

  it('gives the same embeddings as the unoptimised graph on real images of five datasets (cosine >= 0.99999)', () => {
    const images = realImages();
    expect(images).toHaveLength(10);
    for (const { name, bytes } of images) {
      const x = asBatch(bytes);
      const [a, b] = tf.tidy(() => [optimized.run(x).dataSync(), plain.run(x).dataSync()]);
      x.dispose();
      expect(cosine(a!, b!), name).toBeGreaterThanOrEqual(0.99999);
    }
  });

  it('keeps them for a batch with mirror images and an image whose borders are far from the padding value', () => {
    const [first] = realImages();
    const x = asBatch(first!.bytes);
    // All-white and all-black images: the first convolution's padding is where a folded input scaling would go wrong.
    const batch = tf.concat([x, tf.reverse(x, 2), tf.fill([1, 224, 224, 3], 255), tf.zeros([1, 224, 224, 3])]) as tf.Tensor4D;
    const [a, b] = tf.tidy(() => [optimized.run(batch).arraySync(), plain.run(batch).arraySync()]);
    for (let i = 0; i < 4; i++) expect(cosine(a![i]!, b![i]!)).toBeGreaterThanOrEqual(0.99999);
    tf.dispose([x, batch]);
  });

  it('runs fewer steps: the input scaling, hard-swish and squeeze-excite divisions are folded into convolutions', () => {
    const model = parseTflite(modelBytes());
    const scale = { scale: 1 / 255, offset: 0 };
    const folded = compileTflite(model, { inputScale: scale });
    const unfolded = compileTflite(model, { inputScale: scale, optimize: false });
    const operators = model.subgraphs[0]!.operators.length;
    expect(unfolded.steps).toBe(operators);
    // The graph's own MUL and SUB on the input, and the nine squeeze-excite MULs by 1/6.
    expect(folded.steps).toBe(operators - 2 - 9);
    folded.dispose();
    unfolded.dispose();
  });

  it('leaves no tensor behind per run', () => {
    const x = tf.zeros([2, 224, 224, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    optimized.run(x).dispose();
    plain.run(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
