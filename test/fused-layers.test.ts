import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { layers, loadLayersModel, model, sequential } from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { useWasmBackend } from '../node/backend.js';
import { defaultModelDir, fileModelSource } from '../node/model-files.js';
import { fuseLayersModel } from '../src/fused-layers.js';
import { decodeImage } from '../src/pixels.js';
import { cosine } from './cosine.js';
import { caltechDir, datasetsDir } from './paths.js';

describe('batch-norm folding of the MobileNetV2 layers model', () => {
  it('gives the embeddings of the unmodified model on real images, with no tensor left behind', async () => {
    await useWasmBackend();
    const v2 = await loadLayersModel(fileModelSource(join(defaultModelDir(), 'mobilenet_v2_100_224_feature')));
    const fused = fuseLayersModel(v2, 'global_average_pooling2d_1');
    expect(fused).not.toBeNull();
    expect(fused!.dim).toBe(1280);
    const images = ['okapi', 'crab', 'anchor'].map((label) => {
      const rgb = decodeImage(readFileSync(join(caltechDir, label, readdirSync(join(caltechDir, label)).sort()[0] as string)));
      return tf.tidy(() => tf.sub(tf.div(tf.image.resizeBilinear(tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'float32'), [224, 224], true), 127.5), 1));
    });
    const batch = tf.stack(images) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const fromFused = fused!.run(batch);
    const reference = v2.predict(batch) as tf.Tensor2D;
    const [a, b] = [await fromFused.array(), await reference.array()];
    tf.dispose([fromFused, reference]);
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < images.length; i++) expect(cosine(a[i]!, b[i]!)).toBeGreaterThan(0.99999);
    fused!.dispose();
    tf.dispose([batch, ...images]);
    v2.dispose();
  });

  it('folds the v1 0.25 layers model too, matching its pooled output', async () => {
    await useWasmBackend();
    const v1 = await loadLayersModel(fileModelSource(join(datasetsDir, '..', 'models', 'mobilenet_v1_025_224_layers')));
    const fused = fuseLayersModel(v1, 'global_average_pooling2d_1');
    expect(fused?.dim).toBe(256);
    const pooled = model({ inputs: v1.inputs, outputs: v1.getLayer('global_average_pooling2d_1').output });
    const x = tf.randomUniform([2, 224, 224, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
    const outputs = [fused!.run(x), pooled.predict(x) as tf.Tensor2D];
    const [a, b] = await Promise.all(outputs.map((t) => t.array()));
    for (let i = 0; i < 2; i++) expect(cosine(a![i]!, b![i]!)).toBeGreaterThan(0.99999);
    tf.dispose([x, ...outputs]);
    fused!.dispose();
    v1.dispose();
  });

  it('declines a model with a layer it does not fold, keeping no tensor of the attempt', async () => {
    await useWasmBackend();
    const other = sequential({ layers: [layers.flatten({ inputShape: [4, 4, 3] }), layers.dense({ units: 2, name: 'out' })] });
    const before = tf.memory().numTensors;
    expect(fuseLayersModel(other, 'out')).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
    other.dispose();
  });
});
