/**
 * The peer pipeline: what the TF.js documentation teaches for "MobileNet embeddings + KNNClassifier",
 * written against the same weights and the same WASM backend as fewshot-edge, without any of its code
 * except the local-folder IOHandler (file:// URLs need tfjs-node, which is unavailable) and the backend
 * switch (the bench must assert `wasm` on both sides).
 *
 * - mobilenet_v2_100 (layers model): `tf.loadLayersModel`, cut at `global_average_pooling2d_1` with
 *   `tf.model` when the file still has the classifier; per image: decode -> tensor3d -> resizeBilinear 224
 *   (default alignCorners=false, as in the guides) -> x/127.5 - 1 -> predict -> data().
 * - mobilenet_v1_025 (graph model): `@tensorflow-models/mobilenet` `load({ version: 1, alpha: 0.25,
 *   modelUrl, inputRange: [0, 1] })` and `net.infer(image, true)`, which resizes and scales itself.
 * - mobilenet_v3_small_075 (.tflite): no tfjs-models loader exists; the peer is @litertjs/core on the
 *   same file, in a worker thread (bench/peer-litert.ts), after the same decode and resize.
 *
 * JPEG decoding uses jpeg-js for both sides (tfjs-node's `decodeImage` is not available), RGB output.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { MobileNet } from '@tensorflow-models/mobilenet';
import jpeg from 'jpeg-js';
import { useWasmBackend } from '../node/backend.js';
import { fileModelSource, modelFolder } from '../node/model-files.js';
import { INPUT_SIZE, MODELS, type ModelName } from '../src/models.js';

export interface PeerPipeline {
  readonly model: ModelName;
  /** What runs the network: `tfjs-wasm`, or for v3 the LiteRT version and build. */
  readonly engine: string;
  /** One JPEG to a `[1, dim]` embedding tensor, the form the docs pass to `KNNClassifier.addExample`. Caller disposes. */
  embedTensor(bytes: Uint8Array): Promise<tf.Tensor2D>;
  /** One JPEG to its embedding values (the tensor is disposed). */
  embed(bytes: Uint8Array): Promise<Float32Array>;
  /** Several JPEGs through the network in one `[n, 224, 224, 3]` forward pass, values per image. */
  embedBatch(images: readonly Uint8Array[]): Promise<Float32Array[]>;
  dispose(): void;
}

/** Pixel batch `[n, 224, 224, 3]` (0..255 floats) to embeddings `[n, dim]`; called inside tidy. */
type Forward = (batch: tf.Tensor4D) => tf.Tensor2D;

function decodeRgb(bytes: Uint8Array): tf.Tensor3D {
  const { data, width, height } = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
  return tf.tensor3d(data, [height, width, 3], 'int32');
}

/** Called inside tidy: the guides' `resizeBilinear(image, [224, 224])`, as float 0..255. */
function resized224(bytes: Uint8Array): tf.Tensor3D {
  return tf.image.resizeBilinear(decodeRgb(bytes), [INPUT_SIZE, INPUT_SIZE]);
}

// The model libraries are imported when needed, as an app using only one of them would: the v2 peer's
// cold start should not pay for tfjs-converter, nor the v1 peer's for tfjs-layers.
async function loadLayersForward(model: ModelName): Promise<{ forward: Forward; dispose: () => void }> {
  const { loadLayersModel, model: functionalModel } = await import('@tensorflow/tfjs-layers');
  const spec = MODELS[model];
  const full: LayersModel = await loadLayersModel(fileModelSource(modelFolder(model)));
  // Official files end in the 1000-way classifier; the vendored feature copy already ends at the embedding.
  const net =
    full.outputs[0]?.sourceLayer.name === spec.embeddingNode
      ? full
      : functionalModel({ inputs: full.inputs, outputs: full.getLayer(spec.embeddingNode).output });
  return {
    forward: (batch) => net.predict(tf.sub(tf.div(batch, 127.5), 1)) as tf.Tensor2D,
    dispose: () => full.dispose(),
  };
}

async function loadGraphForward(model: ModelName): Promise<{ forward: Forward; single: (bytes: Uint8Array) => tf.Tensor2D }> {
  const { load: loadMobileNet } = await import('@tensorflow-models/mobilenet');
  const [lo, hi] = MODELS[model].inputRange;
  const net: MobileNet = await loadMobileNet({ version: 1, alpha: 0.25, modelUrl: fileModelSource(modelFolder(model)), inputRange: [lo, hi] });
  return {
    // infer() scales to inputRange itself; on a batch it also runs its (224 -> 224) resize.
    forward: (batch) => net.infer(batch, true) as tf.Tensor2D,
    // The documented single-image call: the decoded image of any size, infer() resizes it.
    single: (bytes) => net.infer(decodeRgb(bytes), true) as tf.Tensor2D,
  };
}

/** Loads the peer pipeline for `model` on the WASM backend (asserted). */
export async function loadPeer(model: ModelName): Promise<PeerPipeline> {
  await useWasmBackend();
  if (MODELS[model].format === 'tflite') return (await import('./peer-litert.js')).loadLitertPeer(model, resized224);
  let forward: Forward;
  let single: (bytes: Uint8Array) => tf.Tensor2D;
  let dispose = (): void => undefined;
  if (MODELS[model].format === 'graph') {
    ({ forward, single } = await loadGraphForward(model));
  } else {
    const layers = await loadLayersForward(model);
    forward = layers.forward;
    dispose = layers.dispose;
    single = (bytes) => forward(tf.expandDims(resized224(bytes), 0) as tf.Tensor4D);
  }
  const dim = MODELS[model].dim;
  return {
    model,
    engine: 'tfjs-wasm',
    embedTensor: async (bytes) => tf.tidy(() => single(bytes)),
    async embed(bytes) {
      const out = tf.tidy(() => single(bytes));
      const values = (await out.data()) as Float32Array;
      out.dispose();
      return values;
    },
    async embedBatch(images) {
      const out = tf.tidy(() => forward(tf.stack(images.map(resized224)) as tf.Tensor4D));
      const flat = (await out.data()) as Float32Array;
      out.dispose();
      return images.map((_, i) => flat.slice(i * dim, (i + 1) * dim));
    },
    dispose,
  };
}
