import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadEmbedder, localModelSource, MODELS, modelFolder, useWasmBackend, type ModelName } from '../node/index.js';

describe('Embedder.dispose', () => {
  it('frees every tensor the model holds, for each model format (graph, layers, tflite)', async () => {
    await useWasmBackend();
    for (const model of Object.keys(MODELS) as ModelName[]) {
      const before = tf.memory().numTensors;
      const embedder = await loadEmbedder({ model, source: localModelSource(model, modelFolder(model)) });
      expect(tf.memory().numTensors, model).toBeGreaterThan(before);
      embedder.dispose();
      expect(tf.memory().numTensors, model).toBe(before);
    }
  });
});
