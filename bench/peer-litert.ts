/**
 * The mobilenet_v3_small_075 peer. No @tensorflow-models loader reads MediaPipe's `.tflite`, so the peer is
 * Google's own runtime for that file: @litertjs/core (XNNPack in wasm, its single-threaded build, as our
 * backend), in a worker thread of its own (test/reference/litert.ts), because its loader needs a browser
 * shim that must not reach tfjs-backend-wasm in this thread. Per image: jpeg-js decode -> resizeBilinear
 * 224 (the guides' alignCorners=false) -> [0, 1] on tfjs-wasm here -> LiteRT `run` in its thread. The
 * model's input is fixed at batch 1, so a batch travels in one message and runs image by image.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { modelFolder } from '../node/model-files.js';
import { INPUT_SIZE, MODELS, type ModelName } from '../src/models.js';
import { startLitert } from '../test/reference/litert.js';
import type { PeerPipeline } from './peer.js';

const SHAPE = [1, INPUT_SIZE, INPUT_SIZE, 3] as const;

/** `resized224`: the peer's decode + resize (bench/peer.ts), 0..255 floats; called inside tidy. */
export async function loadLitertPeer(model: ModelName, resized224: (bytes: Uint8Array) => tf.Tensor3D): Promise<PeerPipeline> {
  const spec = MODELS[model];
  const litert = await startLitert(join(modelFolder(model), spec.file));
  const [lo, hi] = spec.inputRange;
  const input = async (bytes: Uint8Array): Promise<Float32Array> => {
    const scaled = tf.tidy(() => tf.add(tf.mul(resized224(bytes), (hi - lo) / 255), lo));
    const values = (await scaled.data()) as Float32Array;
    scaled.dispose();
    return values;
  };
  const embedBatch = async (images: readonly Uint8Array[]): Promise<Float32Array[]> => {
    const inputs: Float32Array[] = [];
    for (const bytes of images) inputs.push(await input(bytes));
    return (await litert.run(inputs, SHAPE)).outputs;
  };
  const embed = async (bytes: Uint8Array): Promise<Float32Array> => (await embedBatch([bytes]))[0] as Float32Array;
  return {
    model,
    engine: litert.engine,
    embedTensor: async (bytes) => tf.tensor2d(await embed(bytes), [1, spec.dim]),
    embed,
    embedBatch,
    dispose: () => void litert.close(),
  };
}
